import { sign, verify, type KeyObject } from 'node:crypto';

/**
 * A deliberately small compact-JWS (JWT) implementation for one algorithm, EdDSA over Ed25519. It accepts
 * exactly the tokens it issues: header `{"alg":"EdDSA","typ":"JWT","kid":…}` and nothing else, canonical
 * base64url, the signature checked before any claim is looked at, then exp/nbf/iat/iss/aud against the
 * caller's `now`. There is no algorithm negotiation, so "alg": "none" and HS256-with-the-public-key
 * cannot be accepted.
 */

/** Why a token was refused. For logs and tests only: callers answer every case with one generic message. */
export class JwtError extends Error {
  override name = 'JwtError';
}

export interface JwtPayload {
  iss?: unknown;
  aud?: unknown;
  sub?: unknown;
  iat?: unknown;
  nbf?: unknown;
  exp?: unknown;
  [claim: string]: unknown;
}

export interface JwtVerifyOptions {
  now: Date;
  issuer: string;
  audience: string;
  /**
   * Seconds by which `iat` and `nbf` may lie in the future (another host's clock running slightly ahead).
   * Expiry is never stretched. Default 0.
   */
  leewaySeconds?: number;
  /** When given, the header's `kid` must be this. */
  kid?: string;
}

/** Longer than any token this module issues; refusing early keeps garbage from being parsed at all. */
export const MAX_TOKEN_LENGTH = 4096;
const ED25519_SIGNATURE_BYTES = 64;
const HEADER_KEYS = new Set(['alg', 'typ', 'kid']);

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeSegment(segment: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) throw new JwtError(`the ${what} is not base64url`);
  const bytes = Buffer.from(segment, 'base64url');
  // Node's decoder ignores unused trailing bits: insist on the one canonical spelling of these bytes.
  if (bytes.toString('base64url') !== segment) throw new JwtError(`the ${what} is not canonical base64url`);
  return bytes;
}

function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decodeSegment(segment, what).toString('utf8'));
  } catch (err) {
    if (err instanceof JwtError) throw err;
    throw new JwtError(`the ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtError(`the ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function requireEd25519(key: KeyObject, type: 'private' | 'public'): void {
  if (key.type !== type || key.asymmetricKeyType !== 'ed25519') throw new JwtError(`an Ed25519 ${type} key is required`);
}

/** Signs `payload` as a compact JWS with EdDSA. The caller sets every claim (iss, aud, iat, exp …). */
export function signJwt(privateKey: KeyObject, kid: string, payload: JwtPayload): string {
  requireEd25519(privateKey, 'private');
  const signingInput = `${encodeJson({ alg: 'EdDSA', typ: 'JWT', kid })}.${encodeJson(payload)}`;
  return `${signingInput}.${sign(null, Buffer.from(signingInput, 'ascii'), privateKey).toString('base64url')}`;
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * The payload of `token` when it is a well-formed EdDSA JWT signed by `publicKey`, issued by `issuer` for
 * `audience` and valid at `now`. Throws {@link JwtError} otherwise. `exp` and `iat` are required.
 */
export function verifyJwt(publicKey: KeyObject, token: string, options: JwtVerifyOptions): JwtPayload {
  requireEd25519(publicKey, 'public');
  if (typeof token !== 'string' || token.length === 0) throw new JwtError('no token');
  if (token.length > MAX_TOKEN_LENGTH) throw new JwtError('the token is too long');
  const segments = token.split('.');
  if (segments.length !== 3) throw new JwtError('the token does not have three segments');
  const [headerPart, payloadPart, signaturePart] = segments as [string, string, string];

  // 1. The header, only to refuse anything but our one algorithm before touching the key.
  const header = decodeJsonObject(headerPart, 'header');
  if (header.alg !== 'EdDSA') throw new JwtError(`algorithm ${JSON.stringify(header.alg)} is not accepted`);
  if (header.typ !== 'JWT') throw new JwtError('the header type is not JWT');
  if (typeof header.kid !== 'string' || header.kid === '') throw new JwtError('the header has no kid');
  if (options.kid !== undefined && header.kid !== options.kid) throw new JwtError('the token was signed with another key');
  // No "crit", "jku", "x5u", "jwk" …: a header parameter we do not know is a token we did not issue.
  for (const name of Object.keys(header)) if (!HEADER_KEYS.has(name)) throw new JwtError(`header parameter "${name}" is not accepted`);

  // 2. The signature, before any claim is read.
  const signature = decodeSegment(signaturePart, 'signature');
  if (signature.length !== ED25519_SIGNATURE_BYTES) throw new JwtError('the signature has the wrong length');
  if (!verify(null, Buffer.from(`${headerPart}.${payloadPart}`, 'ascii'), publicKey, signature))
    throw new JwtError('the signature does not match');

  // 3. The claims, against the caller's clock.
  const payload = decodeJsonObject(payloadPart, 'payload') as JwtPayload;
  const now = options.now.getTime() / 1000;
  if (!Number.isFinite(now)) throw new JwtError('no valid time to check the token against');
  const leeway = options.leewaySeconds ?? 0;
  if (!isNumericDate(payload.exp)) throw new JwtError('the token has no valid exp');
  if (now >= payload.exp) throw new JwtError('the token has expired');
  if (!isNumericDate(payload.iat)) throw new JwtError('the token has no valid iat');
  if (payload.iat > now + leeway) throw new JwtError('the token was issued in the future');
  if (payload.nbf !== undefined) {
    if (!isNumericDate(payload.nbf)) throw new JwtError('the token has an invalid nbf');
    if (payload.nbf > now + leeway) throw new JwtError('the token is not valid yet');
  }
  if (payload.iss !== options.issuer) throw new JwtError('the token has another issuer');
  const audiences = Array.isArray(payload.aud) ? (payload.aud as unknown[]) : [payload.aud];
  if (!audiences.includes(options.audience)) throw new JwtError('the token is meant for another audience');
  return payload;
}
