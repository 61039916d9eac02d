import { Kind, parse, type DocumentNode, type GraphQLFieldResolver } from 'graphql';
import { forbidden } from './errors.js';
import { hasRole, requireRole, requireSelfOrRole, requireViewer, type Role, type Viewer } from './viewer.js';

/**
 * Who may see a field. Rules are declared per type and field in each subgraph's `src/resolvers/access.ts`
 * and enforced here, in one place, whichever way a field is reached: from a root field, a nested field or
 * `_entities` through the gateway (`__resolveReference` is a field like any other).
 */
export type Access =
  | { kind: 'public' }
  | { kind: 'signedIn' }
  | { kind: 'role'; role: Role }
  /** Another Shelfwise service on an internal call (service credential); never an end user. */
  | { kind: 'service' }
  /** The owner of the parent object (a loan's borrower, a user themselves) or `role` and above (null: nobody else). */
  | { kind: 'ownerOr'; role: Role | null; owner: (parent: never, args: never) => string | null | undefined };

export const allow = {
  /** Anyone, signed in or not: catalogue data. */
  public: { kind: 'public' } as Access,
  /** Any signed-in user. */
  signedIn: { kind: 'signedIn' } as Access,
  /** Library staff (LIBRARIAN or ADMIN). */
  librarian: { kind: 'role', role: 'LIBRARIAN' } as Access,
  /** Administrators only. */
  admin: { kind: 'role', role: 'ADMIN' } as Access,
  /**
   * Internal operations (`@inaccessible` fields) that only other subgraphs call, with a service
   * credential. The router never routes to them; a user's credential sent straight to the subgraph is
   * refused too.
   */
  service: { kind: 'service' } as Access,
  /**
   * The owner, or library staff. `owner` reads the owning user's id from the parent object, or from the
   * field's arguments for a root field such as `user(id:)`.
   */
  ownerOrLibrarian<TParent, TArgs = Record<string, unknown>>(owner: (parent: TParent, args: TArgs) => string | null | undefined): Access {
    return { kind: 'ownerOr', role: 'LIBRARIAN', owner: owner as (parent: never, args: never) => string | null | undefined };
  },
  /** The owner only, staff included among the refused: records that are personal (a notification inbox). */
  owner<TParent, TArgs = Record<string, unknown>>(owner: (parent: TParent, args: TArgs) => string | null | undefined): Access {
    return { kind: 'ownerOr', role: null, owner: owner as (parent: never, args: never) => string | null | undefined };
  },
};

/** Per type, per field (`'*'`: every field of the type without its own rule). */
export type AccessRules = Record<string, Record<string, Access>>;

interface ViewerContext {
  viewer: Viewer | null;
  /** The calling service on an internal call (see `serviceOf` in trust.ts); absent otherwise. */
  service?: string | null;
}

/** Throws UNAUTHENTICATED / FORBIDDEN unless `viewer` (or the calling `service`) may see a field of `parent`. */
export function checkAccess(
  access: Access,
  viewer: Viewer | null,
  parent: unknown,
  args: Record<string, unknown> = {},
  service: string | null = null,
): void {
  switch (access.kind) {
    case 'public':
      return;
    case 'service':
      if (!service) throw forbidden('This is an internal operation between Shelfwise services; it is not part of the public API.');
      return;
    case 'signedIn':
      requireViewer(viewer);
      return;
    case 'role':
      requireRole(viewer, access.role);
      return;
    case 'ownerOr': {
      const v = requireViewer(viewer);
      if (access.role && hasRole(v, access.role)) return;
      const owner = (access.owner as (p: unknown, a: unknown) => string | null | undefined)(parent, args) ?? '';
      if (access.role) requireSelfOrRole(v, owner, access.role);
      else if (v.userId !== owner) throw forbidden('You can only see your own records.');
      return;
    }
  }
}

/** Every object type and field an SDL declares (Query and Mutation included), excluding federation's own. */
export function declaredFields(typeDefs: DocumentNode | string): Map<string, string[]> {
  const doc = typeof typeDefs === 'string' ? parse(typeDefs) : typeDefs;
  const fields = new Map<string, string[]>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const isEntity = (def.directives ?? []).some(
      (d) =>
        d.name.value === 'key' &&
        !d.arguments?.some((a) => a.name.value === 'resolvable' && a.value.kind === Kind.BOOLEAN && !a.value.value),
    );
    const names = (def.fields ?? []).map((f) => f.name.value);
    if (isEntity) names.push('__resolveReference');
    fields.set(def.name.value, [...(fields.get(def.name.value) ?? []), ...names]);
  }
  return fields;
}

/** Fields of `typeDefs` that no rule covers: a subgraph refuses to start with any (see {@link withAccessRules}). */
export function uncoveredFields(typeDefs: DocumentNode | string, rules: AccessRules): string[] {
  const missing: string[] = [];
  for (const [type, fields] of declaredFields(typeDefs)) {
    const typeRules = rules[type] ?? {};
    for (const field of fields) if (!typeRules[field] && !typeRules['*']) missing.push(`${type}.${field}`);
  }
  return missing;
}

type ResolverMap = Record<string, Record<string, unknown> | unknown>;

/**
 * Wraps every field resolver (and the default property resolver of fields that have none) with its rule.
 * For `__resolveReference` with an owner rule, the caller must be signed in BEFORE the lookup (anonymous
 * callers cannot probe which ids exist) and the owner is checked on the entity found.
 * Throws when a field of `typeDefs` has no rule, so a new field cannot ship without deciding who sees it.
 */
export function withAccessRules<TResolvers extends ResolverMap>(
  typeDefs: DocumentNode,
  resolvers: TResolvers,
  rules: AccessRules,
): TResolvers {
  const missing = uncoveredFields(typeDefs, rules);
  if (missing.length > 0)
    throw new Error(`No access rule for ${missing.join(', ')}. Declare who may see each field in src/resolvers/access.ts.`);
  const wrapped: ResolverMap = { ...resolvers };
  for (const [type, fields] of declaredFields(typeDefs)) {
    const typeRules = rules[type] ?? {};
    const original = (resolvers[type] ?? {}) as Record<string, unknown>;
    const out: Record<string, unknown> = { ...original };
    for (const field of fields) {
      const access = (typeRules[field] ?? typeRules['*']) as Access;
      if (access.kind === 'public') continue;
      if (field === '__resolveReference') {
        const resolve = original.__resolveReference as ((ref: unknown, ctx: ViewerContext, info: unknown) => unknown) | undefined;
        out.__resolveReference = async (ref: unknown, ctx: ViewerContext, info: unknown) => {
          if (access.kind !== 'ownerOr') checkAccess(access, ctx.viewer, ref, {}, ctx.service ?? null);
          else requireViewer(ctx.viewer);
          const entity = await (resolve ? resolve(ref, ctx, info) : ref);
          if (entity && access.kind === 'ownerOr') checkAccess(access, ctx.viewer, entity);
          return entity;
        };
        continue;
      }
      const resolve = original[field] as GraphQLFieldResolver<unknown, ViewerContext> | undefined;
      out[field] = (
        parent: unknown,
        args: Record<string, unknown>,
        ctx: ViewerContext,
        info: Parameters<GraphQLFieldResolver<unknown, ViewerContext>>[3],
      ) => {
        checkAccess(access, ctx.viewer, parent, args, ctx.service ?? null);
        return resolve ? resolve(parent, args, ctx, info) : (parent as Record<string, unknown> | null)?.[field];
      };
    }
    wrapped[type] = out;
  }
  return wrapped as TResolvers;
}
