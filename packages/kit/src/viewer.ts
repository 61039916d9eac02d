import type { IncomingHttpHeaders } from 'node:http';
import { forbidden, unauthenticated } from './errors.js';

export const ROLES = ['PATRON', 'LIBRARIAN', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

/** Who is asking: the signed-in user and their role, as established by the router. */
export interface Viewer {
  userId: string;
  role: Role;
}

/**
 * Header on which the router passes the caller on to subgraphs, as `<userId>;<role>`.
 * TODO(#3): the router signs subgraph calls and subgraphs refuse calls without a valid router credential;
 * until then subgraphs listen on loopback only in the embedded default.
 */
export const VIEWER_HEADER = 'x-shelfwise-viewer';

const RANK: Record<Role, number> = { PATRON: 0, LIBRARIAN: 1, ADMIN: 2 };
/** The role with its article, for error messages ("Only an admin can do this."). */
const ROLE_NOUN: Record<Role, string> = { PATRON: 'a patron', LIBRARIAN: 'a librarian', ADMIN: 'an admin' };

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function encodeViewer(viewer: Viewer): string {
  return `${viewer.userId};${viewer.role}`;
}

export function viewerFromHeaders(headers: IncomingHttpHeaders): Viewer | null {
  const raw = headers[VIEWER_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return null;
  // Exactly `<userId>;<role>`: anything else (extra segments, a repeated header joined with ", ")
  // is malformed and means anonymous, never a partly trusted identity.
  const parts = value.split(';');
  if (parts.length !== 2) return null;
  const [userId, role] = parts as [string, string];
  if (!userId || !isRole(role)) return null;
  return { userId, role };
}

/** True when the viewer's role is `role` or above (ADMIN > LIBRARIAN > PATRON). */
export function hasRole(viewer: Viewer | null, role: Role): boolean {
  return viewer !== null && RANK[viewer.role] >= RANK[role];
}

export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw unauthenticated();
  return viewer;
}

export function requireRole(viewer: Viewer | null, role: Role): Viewer {
  const v = requireViewer(viewer);
  if (!hasRole(v, role)) throw forbidden(`Only ${ROLE_NOUN[role]} can do this.`);
  return v;
}

/** The viewer is `userId` themselves, or holds `role` (staff looking at a patron's record). */
export function requireSelfOrRole(viewer: Viewer | null, userId: string, role: Role = 'LIBRARIAN'): Viewer {
  const v = requireViewer(viewer);
  if (v.userId !== userId && !hasRole(v, role)) throw forbidden('You can only see your own records.');
  return v;
}
