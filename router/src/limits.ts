import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode, getEnvNum, getEnvOptional, MAX_PAGE_SIZE } from '@shelfwise/kit';
import {
  GraphQLError,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/**
 * The shape limits the router puts on every operation, checked after parsing and validation and before
 * the gateway plans or sends anything to a subgraph. They bound what one request can cost, whatever the
 * subgraphs would refuse later (OWASP GraphQL cheat sheet: depth, amount, batching by aliases).
 */
export interface OperationLimits {
  /** Deepest field nesting; a root field is level 1. */
  maxDepth: number;
  /** Aliased fields in the operation, fragments expanded. */
  maxAliases: number;
  /** Fields at the top of the operation (`books`, `book`, `me` …), fragments expanded. */
  maxRootFields: number;
  /** Every field selected anywhere, fragments expanded (a fragment spread twice counts twice). */
  maxFields: number;
  /** Largest value of any field argument named `first` (literal or variable). */
  maxFirst: number;
}

export const DEFAULT_OPERATION_LIMITS: Readonly<OperationLimits> = Object.freeze({
  maxDepth: 12,
  maxAliases: 30,
  maxRootFields: 10,
  maxFields: 500,
  maxFirst: MAX_PAGE_SIZE,
});

/** The limits the environment sets (SHELFWISE_MAX_DEPTH, …), each defaulting to {@link DEFAULT_OPERATION_LIMITS}. */
export function operationLimitsFromEnv(env: Record<string, string | undefined> = process.env): OperationLimits {
  return {
    ...DEFAULT_OPERATION_LIMITS,
    maxDepth: getEnvNum('SHELFWISE_MAX_DEPTH', DEFAULT_OPERATION_LIMITS.maxDepth, env),
    maxAliases: getEnvNum('SHELFWISE_MAX_ALIASES', DEFAULT_OPERATION_LIMITS.maxAliases, env),
    maxRootFields: getEnvNum('SHELFWISE_MAX_ROOT_FIELDS', DEFAULT_OPERATION_LIMITS.maxRootFields, env),
    maxFields: getEnvNum('SHELFWISE_MAX_FIELDS', DEFAULT_OPERATION_LIMITS.maxFields, env),
  };
}

/** Defaults, then the environment, then what the caller passes; each must be a whole number of at least 1. */
export function resolveOperationLimits(
  overrides: Partial<OperationLimits> = {},
  env?: Record<string, string | undefined>,
): OperationLimits {
  const merged = { ...operationLimitsFromEnv(env), ...withoutUndefined(overrides) };
  for (const [name, value] of Object.entries(merged)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new Error(`Operation limit ${name} must be a whole number of at least 1, got ${value}.`);
  }
  return merged;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What an operation costs in the terms of {@link OperationLimits}. */
export interface OperationMeasure {
  depth: number;
  aliases: number;
  rootFields: number;
  fields: number;
  /** Every `first:` argument whose value is known (a literal, a variable's value or its default). */
  firsts: { field: string; value: number }[];
}

interface SelectionStats {
  /** Deepest field level below and including this selection set (0 for an empty one). */
  depth: number;
  /** Fields, fragments expanded. */
  fields: number;
  aliases: number;
  /** Fields directly in this selection set (through fragments, not inside child fields). */
  topFields: number;
}

/**
 * Introspection's entry points. Their nesting is not counted as depth: the standard introspection query
 * (GraphiQL, codegen) is 15 levels deep, and its recursion is bounded instead by graphql's
 * MaxIntrospectionDepthRule, which the router adds to validation. Their fields still count.
 */
const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

const EMPTY: SelectionStats = { depth: 0, fields: 0, aliases: 0, topFields: 0 };

/** Sums that stay finite (a fragment spread 2^n times must not turn into Infinity in a message). */
function add(a: number, b: number): number {
  return Math.min(a + b, Number.MAX_SAFE_INTEGER);
}

/**
 * Measures one operation. Each fragment is measured once and its totals reused wherever it is spread, so
 * a "fragment bomb" (fragments that spread the next one many times) costs time linear in the document
 * while its counts still grow as the expanded operation's would. A fragment that spreads itself (graphql
 * validation refuses those before we get here) counts as empty instead of recursing.
 */
export function measureOperation(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined = {},
): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const memo = new Map<string, SelectionStats>();
  const inProgress = new Set<string>();

  const statsOfFragment = (name: string): SelectionStats => {
    const known = memo.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    if (!fragment || inProgress.has(name)) return EMPTY;
    inProgress.add(name);
    const stats = statsOf(fragment.selectionSet);
    inProgress.delete(name);
    memo.set(name, stats);
    return stats;
  };

  const statsOf = (selectionSet: SelectionSetNode): SelectionStats => {
    let depth = 0;
    let fields = 0;
    let aliases = 0;
    let topFields = 0;
    const merge = (inner: SelectionStats) => {
      depth = Math.max(depth, inner.depth);
      fields = add(fields, inner.fields);
      aliases = add(aliases, inner.aliases);
      topFields = add(topFields, inner.topFields);
    };
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const child = selection.selectionSet ? statsOf(selection.selectionSet) : EMPTY;
        depth = Math.max(depth, INTROSPECTION_ROOTS.has(selection.name.value) ? 1 : 1 + child.depth);
        fields = add(add(fields, 1), child.fields);
        aliases = add(add(aliases, selection.alias ? 1 : 0), child.aliases);
        topFields = add(topFields, 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        merge(statsOf(selection.selectionSet));
      } else {
        merge(statsOfFragment(selection.name.value));
      }
    }
    return { depth, fields, aliases, topFields };
  };

  const total = statsOf(operation.selectionSet);
  return {
    depth: total.depth,
    aliases: total.aliases,
    rootFields: total.topFields,
    fields: total.fields,
    firsts: firstArguments(operation, fragments, variables ?? {}),
  };
}

/** The value of every `first:` argument in the operation and the fragments it reaches (each visited once). */
function firstArguments(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): { field: string; value: number }[] {
  const defaults = new Map<string, ValueNode>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) defaults.set(definition.variable.name.value, definition.defaultValue);
  }
  const valueOf = (node: ValueNode): number | undefined => {
    if (node.kind === Kind.INT) return Number(node.value);
    if (node.kind !== Kind.VARIABLE) return undefined;
    const name = node.name.value;
    if (Object.prototype.hasOwnProperty.call(variables, name)) {
      const value = variables[name];
      return typeof value === 'number' ? value : undefined;
    }
    const fallback = defaults.get(name);
    return fallback?.kind === Kind.INT ? Number(fallback.value) : undefined;
  };

  const found: { field: string; value: number }[] = [];
  const visited = new Set<string>();
  const pending: SelectionSetNode[] = [operation.selectionSet];
  for (let set = pending.pop(); set; set = pending.pop()) {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        checkFirst(selection, valueOf, found);
        if (selection.selectionSet) pending.push(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        pending.push(selection.selectionSet);
      } else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) pending.push(fragment.selectionSet);
      }
    }
  }
  return found;
}

function checkFirst(field: FieldNode, valueOf: (node: ValueNode) => number | undefined, found: { field: string; value: number }[]): void {
  const argument = field.arguments?.find((a) => a.name.value === 'first');
  if (!argument) return;
  const value = valueOf(argument.value);
  if (value !== undefined) found.push({ field: field.name.value, value });
}

/** A limit refusal: BAD_USER_INPUT (HTTP 400) naming the limit, the value and what to do instead. */
function refusal(message: string, limit: keyof OperationLimits, value: number, maximum: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, limit, value, maximum, http: { status: 400 } },
  });
}

const SPLIT = 'Split it into smaller queries.';

/** The first limit the operation breaks, or null when it is within all of them. */
export function checkOperation(measure: OperationMeasure, limits: OperationLimits): GraphQLError | null {
  if (measure.depth > limits.maxDepth) {
    return refusal(
      `This operation is ${measure.depth} levels deep; the limit is ${limits.maxDepth}. ${SPLIT}`,
      'maxDepth',
      measure.depth,
      limits.maxDepth,
    );
  }
  if (measure.aliases > limits.maxAliases) {
    return refusal(
      `This operation uses ${measure.aliases} aliases; the limit is ${limits.maxAliases}. ${SPLIT}`,
      'maxAliases',
      measure.aliases,
      limits.maxAliases,
    );
  }
  if (measure.rootFields > limits.maxRootFields) {
    return refusal(
      `This operation asks for ${measure.rootFields} root fields; the limit is ${limits.maxRootFields}. ${SPLIT}`,
      'maxRootFields',
      measure.rootFields,
      limits.maxRootFields,
    );
  }
  if (measure.fields > limits.maxFields) {
    return refusal(
      `This operation selects ${measure.fields} fields (fragments expanded); the limit is ${limits.maxFields}. ${SPLIT}`,
      'maxFields',
      measure.fields,
      limits.maxFields,
    );
  }
  const tooMany = measure.firsts.find((f) => f.value > limits.maxFirst);
  if (tooMany) {
    return refusal(
      `"first" is ${tooMany.value} on ${tooMany.field}; the limit is ${limits.maxFirst} (it must be between 1 and ${limits.maxFirst}). Ask for the next page with "after" instead.`,
      'maxFirst',
      tooMany.value,
      limits.maxFirst,
    );
  }
  return null;
}

/**
 * The Apollo Server plugin that enforces {@link OperationLimits}. It runs in `didResolveOperation`: after
 * parsing and validation (so fragments exist and do not cycle), before the gateway plans the query or
 * calls any subgraph. A refusal is a request error: no `data`, HTTP 400.
 */
export function operationLimitsPlugin<TContext extends object>(limits: OperationLimits): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) return;
          const error = checkOperation(measureOperation(document, operation, request.variables), limits);
          if (error) throw error;
        },
      };
    },
  };
}

/** Introspection unless NODE_ENV=production (the router's default; RouterOptions.introspection overrides it). */
export function introspectionByDefault(env: Record<string, string | undefined> = process.env): boolean {
  return getEnvOptional('NODE_ENV', env) !== 'production';
}

/** "Did you mean …?" at the end of a message (graphql's suggestions of field, type and enum value names). */
const SUGGESTION = / ?Did you mean .+\?$/;

/** A message without graphql's "Did you mean …?" suggestion (for when introspection is off). */
export function withoutSuggestion(message: string): string {
  return message.replace(SUGGESTION, '');
}

/**
 * With introspection off, error messages must not hand out the schema piece by piece: Apollo Server's
 * `hideSchemaDetailsFromClientErrors` strips suggestions from validation errors, and this plugin strips
 * them from the rest (a variable's invalid enum value is reported during execution, with the valid one).
 */
export function hideSuggestionsPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            if (SUGGESTION.test(error.message)) error.message = error.message.replace(SUGGESTION, '');
          }
        },
      };
    },
  };
}
