import { unauthenticated } from '../errors.js';
import { isRole, type Role } from '../viewer.js';
import { signJwt, verifyJwt } from './jwt.js';
import type { SigningKeys } from './keys.js';

/** Access tokens live 15 minutes; the refresh token (sessions.ts) gets a new one. */
export const ACCESS_TOKEN_TTL_SECONDS = 900;
export const ACCESS_TOKEN_ISSUER = 'shelfwise';
export const ACCESS_TOKEN_AUDIENCE = 'shelfwise-api';
/** How far a token's iat may lie in the future when the issuing host's clock runs slightly ahead. */
const CLOCK_LEEWAY_SECONDS = 30;

/** The one answer to every refused access token: it never says which check failed. */
export const ACCESS_TOKEN_INVALID_MESSAGE = 'Your access token is not valid or has expired. Sign in again or refresh your session.';

export interface AccessClaims {
  userId: string;
  role: Role;
  sessionId: string;
}

function checkClaims(claims: AccessClaims): void {
  if (typeof claims.userId !== 'string' || claims.userId === '') throw new Error('An access token needs a userId.');
  if (typeof claims.role !== 'string' || !isRole(claims.role))
    throw new Error(`An access token needs a valid role, got ${String(claims.role)}.`);
  if (typeof claims.sessionId !== 'string' || claims.sessionId === '') throw new Error('An access token needs a sessionId.');
}

/** Signs an access token for `claims`, valid for {@link ACCESS_TOKEN_TTL_SECONDS} from `now`. Needs the private key. */
export async function issueAccessToken(keys: SigningKeys, claims: AccessClaims, now: Date): Promise<{ token: string; expiresAt: Date }> {
  if (!keys.privateKey)
    throw new Error('These signing keys can only verify tokens: issuing one needs the private key (SHELFWISE_JWT_PRIVATE_KEY).');
  checkClaims(claims);
  const iat = Math.floor(now.getTime() / 1000);
  if (!Number.isSafeInteger(iat)) throw new Error('issueAccessToken needs a valid time.');
  const exp = iat + ACCESS_TOKEN_TTL_SECONDS;
  const token = signJwt(keys.privateKey, keys.kid, {
    iss: ACCESS_TOKEN_ISSUER,
    aud: ACCESS_TOKEN_AUDIENCE,
    sub: claims.userId,
    role: claims.role,
    sid: claims.sessionId,
    iat,
    exp,
  });
  return { token, expiresAt: new Date(exp * 1000) };
}

/**
 * The claims of a valid access token. Any problem (malformed, another algorithm, wrong key, altered,
 * expired, not yet valid, another issuer or audience, missing claims) throws the same UNAUTHENTICATED
 * error, so a caller probing with forged tokens learns nothing. Whether the session is still live is
 * the caller's check (SessionStore.get).
 */
export async function verifyAccessToken(keys: Pick<SigningKeys, 'publicKey'>, token: string, now: Date): Promise<AccessClaims> {
  try {
    const payload = verifyJwt(keys.publicKey, token, {
      now,
      issuer: ACCESS_TOKEN_ISSUER,
      audience: ACCESS_TOKEN_AUDIENCE,
      leewaySeconds: CLOCK_LEEWAY_SECONDS,
    });
    const { sub, role, sid } = payload;
    if (typeof sub !== 'string' || sub === '' || typeof sid !== 'string' || sid === '' || typeof role !== 'string' || !isRole(role)) {
      throw new Error('the token lacks its claims');
    }
    return { userId: sub, role, sessionId: sid };
  } catch {
    throw unauthenticated(ACCESS_TOKEN_INVALID_MESSAGE);
  }
}
