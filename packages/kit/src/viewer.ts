import { forbidden, unauthenticated } from './errors.js';

export const ROLES = ['PATRON', 'LIBRARIAN', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

/** Who is asking: the signed-in user and their role, as established by the router. */
export interface Viewer {
  userId: string;
  role: Role;
  /** The sign-in session the request belongs to (logout ends it); absent for service-made viewers. */
  sessionId?: string;
}

const RANK: Record<Role, number> = { PATRON: 0, LIBRARIAN: 1, ADMIN: 2 };
/** The role with its article, for error messages ("Only an admin can do this."). */
const ROLE_NOUN: Record<Role, string> = { PATRON: 'a patron', LIBRARIAN: 'a librarian', ADMIN: 'an admin' };

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
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
