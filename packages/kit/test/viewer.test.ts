import { hasRole, isRole, requireRole, requireSelfOrRole, requireViewer, ROLES, type Role, type Viewer } from '@shelfwise/kit';
import { GraphQLError } from 'graphql';

function errorOf(fn: () => unknown): GraphQLError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GraphQLError);
    return err as GraphQLError;
  }
  throw new Error('expected a GraphQLError, nothing was thrown');
}

const patron: Viewer = { userId: 'u-patron', role: 'PATRON' };
const librarian: Viewer = { userId: 'u-librarian', role: 'LIBRARIAN' };
const admin: Viewer = { userId: 'u-admin', role: 'ADMIN' };

describe('viewer', () => {
  describe('roles', () => {
    it('knows exactly PATRON, LIBRARIAN and ADMIN', () => {
      expect(ROLES).toEqual(['PATRON', 'LIBRARIAN', 'ADMIN']);
      expect(isRole('LIBRARIAN')).toBe(true);
      expect(isRole('librarian')).toBe(false);
      expect(isRole('ROOT')).toBe(false);
    });

    it.each<[Viewer | null, Role, boolean]>([
      [patron, 'PATRON', true],
      [patron, 'LIBRARIAN', false],
      [patron, 'ADMIN', false],
      [librarian, 'PATRON', true],
      [librarian, 'LIBRARIAN', true],
      [librarian, 'ADMIN', false],
      [admin, 'PATRON', true],
      [admin, 'LIBRARIAN', true],
      [admin, 'ADMIN', true],
      [null, 'PATRON', false],
    ])('ranks ADMIN > LIBRARIAN > PATRON: hasRole(%j, %s) is %s', (viewer, role, expected) => {
      expect(hasRole(viewer, role)).toBe(expected);
    });
  });

  describe('require*', () => {
    it('requireViewer returns the viewer or throws UNAUTHENTICATED', () => {
      expect(requireViewer(patron)).toBe(patron);
      const err = errorOf(() => requireViewer(null));
      expect(err.extensions.code).toBe('UNAUTHENTICATED');
      expect(err.message).toBe('You need to sign in to do this.');
    });

    it('requireRole lets the role and higher through', () => {
      expect(requireRole(librarian, 'LIBRARIAN')).toBe(librarian);
      expect(requireRole(admin, 'LIBRARIAN')).toBe(admin);
      expect(requireRole(patron, 'PATRON')).toBe(patron);
    });

    it('requireRole throws UNAUTHENTICATED for anonymous and FORBIDDEN for a lower role, saying who may', () => {
      expect(errorOf(() => requireRole(null, 'LIBRARIAN')).extensions.code).toBe('UNAUTHENTICATED');
      const staffOnly = errorOf(() => requireRole(patron, 'LIBRARIAN'));
      expect(staffOnly.extensions.code).toBe('FORBIDDEN');
      expect(staffOnly.message).toBe('Only a librarian can do this.');
      const adminOnly = errorOf(() => requireRole(librarian, 'ADMIN'));
      expect(adminOnly.extensions.code).toBe('FORBIDDEN');
      expect(adminOnly.message).toBe('Only an admin can do this.');
    });

    it('requireSelfOrRole lets the person themselves and staff through (LIBRARIAN by default)', () => {
      expect(requireSelfOrRole(patron, 'u-patron')).toBe(patron);
      expect(requireSelfOrRole(librarian, 'u-patron')).toBe(librarian);
      expect(requireSelfOrRole(admin, 'u-patron')).toBe(admin);
      expect(requireSelfOrRole(librarian, 'u-librarian', 'ADMIN')).toBe(librarian);
    });

    it('requireSelfOrRole refuses another patron with FORBIDDEN and anonymous with UNAUTHENTICATED', () => {
      const other = errorOf(() => requireSelfOrRole({ userId: 'u-other', role: 'PATRON' }, 'u-patron'));
      expect(other.extensions.code).toBe('FORBIDDEN');
      expect(other.message).toBe('You can only see your own records.');
      expect(errorOf(() => requireSelfOrRole(null, 'u-patron')).extensions.code).toBe('UNAUTHENTICATED');
      // a stricter role than the default
      expect(errorOf(() => requireSelfOrRole(librarian, 'u-patron', 'ADMIN')).extensions.code).toBe('FORBIDDEN');
    });
  });
});
