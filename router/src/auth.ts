import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, verifyAccessToken, type Clock, type SessionStore, type SigningKeys, type Viewer } from '@shelfwise/kit';
import { GraphQLError } from 'graphql';

/** What the router needs to know who is calling: the token public key, the live sessions and the clock. */
export interface RouterAuth {
  keys: Pick<SigningKeys, 'publicKey'>;
  sessions: Pick<SessionStore, 'get'>;
  clock: Clock;
}

/**
 * How long a session found live is trusted without asking the store again. Bounds how late a revoked
 * session (logout, theft detection, role change) is refused: within this many milliseconds.
 */
export const SESSION_CHECK_INTERVAL_MS = 2_000;
const CACHE_LIMIT = 10_000;

function refuse(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });
}

/**
 * Turns a request's `Authorization: Bearer <accessToken>` into the viewer: no header → anonymous; a
 * token that is malformed, forged, expired, or whose session has ended → UNAUTHENTICATED (HTTP 401),
 * never silently anonymous, so a client learns at once that it must sign in again.
 */
export function createViewerResolver(
  auth: RouterAuth,
  sessionCheckIntervalMs = SESSION_CHECK_INTERVAL_MS,
): (headers: IncomingHttpHeaders) => Promise<Viewer | null> {
  const liveUntil = new Map<string, number>();

  async function sessionIsLive(sessionId: string): Promise<boolean> {
    const nowMs = Date.now();
    const cached = liveUntil.get(sessionId);
    if (cached !== undefined && cached > nowMs) return true;
    const session = await auth.sessions.get(sessionId, auth.clock.now());
    if (!session) {
      liveUntil.delete(sessionId);
      return false;
    }
    if (liveUntil.size >= CACHE_LIMIT) liveUntil.clear();
    if (sessionCheckIntervalMs > 0) liveUntil.set(sessionId, nowMs + sessionCheckIntervalMs);
    return true;
  }

  return async (headers) => {
    const header = headers.authorization;
    if (header === undefined || header.trim() === '') return null;
    const match = /^Bearer\s+([A-Za-z0-9_\-.]+)$/.exec(header.trim());
    if (!match) throw refuse('The Authorization header must be "Bearer <accessToken>" (the accessToken from login).');
    let claims;
    try {
      claims = await verifyAccessToken(auth.keys, match[1] as string, auth.clock.now());
    } catch (err) {
      if (err instanceof GraphQLError) throw refuse(err.message);
      throw err;
    }
    if (!(await sessionIsLive(claims.sessionId))) throw refuse('Your session has ended. Sign in again.');
    return { userId: claims.userId, role: claims.role, sessionId: claims.sessionId };
  };
}
