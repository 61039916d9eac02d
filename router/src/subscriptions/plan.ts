import { ErrorCode, type Viewer } from '@shelfwise/kit';
import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isAbstractType,
  isNonNullType,
  isObjectType,
  Kind,
  parseType,
  print,
  typeFromAST,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { GatewayField, SubscriptionFieldDefinition } from './fields.js';

/** One response key of the subscription's root object, and where its value comes from. */
export type PlanEntry<TEvent = unknown> =
  | { key: string; from: 'typename' }
  | { key: string; from: 'event'; field: string; read: (event: TEvent) => unknown }
  | { key: string; from: 'gateway' };

/** The query sent through the gateway for each event (only when the selection asks for such fields). */
export interface GatewayQuery<TEvent = unknown> {
  /** e.g. `query BookAvailabilityChangedEvent($eventId: ID!) { book: book(id: $eventId) { title } }`. */
  query: string;
  /** The client's own variables the query uses (their raw JSON values), the same for every event. */
  variables: Record<string, unknown>;
  /** Variables whose value comes from each event. */
  eventVariables: { name: string; value: (event: TEvent) => unknown }[];
}

/**
 * What a subscribe message asks for, worked out once when it arrives: the field, the keys it listens on,
 * how to build each event's root object, and the gateway query (if any). Everything that decides the
 * bytes of a frame is in `selectionKey`, so subscriptions with equal keys (and permission scope) can
 * share one resolution and one serialized frame per event.
 */
export interface SubscriptionPlan<TEvent = unknown> {
  definition: SubscriptionFieldDefinition<TEvent>;
  /** The root field's response key (its alias, or its name). */
  rootKey: string;
  /** The root field's return type (for `__typename`). */
  typeName: string;
  listenKeys: string[];
  /**
   * True when the gateway query answers the whole root value (`data[rootKey]`, the definition's `root`
   * mode); `entries` is then empty and a null answer without errors sends no frame.
   */
  whole: boolean;
  entries: PlanEntry<TEvent>[];
  gateway: GatewayQuery<TEvent> | null;
  /** Equal for two subscriptions exactly when every event renders to the same frame for the same viewer. */
  selectionKey: string;
}

function refuse(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT } });
}

function included(node: SelectionNode, variables: Record<string, unknown>): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
}

/** graphql-js's CollectFields: the fields of `selectionSet` on `type`, by response key, @skip/@include applied. */
function collectFields(
  schema: GraphQLSchema,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  type: GraphQLObjectType,
  selectionSet: SelectionSetNode,
  fields = new Map<string, FieldNode[]>(),
  visited = new Set<string>(),
): Map<string, FieldNode[]> {
  const applies = (condition: FragmentDefinitionNode['typeCondition'] | undefined) => {
    if (!condition) return true;
    const conditionType = typeFromAST(schema, condition);
    if (conditionType === type) return true;
    return conditionType !== undefined && isAbstractType(conditionType) && schema.isSubType(conditionType, type);
  };
  for (const selection of selectionSet.selections) {
    if (!included(selection, variables)) continue;
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      const list = fields.get(key);
      if (list) list.push(selection);
      else fields.set(key, [selection]);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (applies(selection.typeCondition)) collectFields(schema, fragments, variables, type, selection.selectionSet, fields, visited);
    } else {
      const name = selection.name.value;
      if (visited.has(name)) continue;
      visited.add(name);
      const fragment = fragments.get(name);
      if (fragment && applies(fragment.typeCondition)) {
        collectFields(schema, fragments, variables, type, fragment.selectionSet, fields, visited);
      }
    }
  }
  return fields;
}

/** The fragments a selection set spreads, directly or through other fragments, in document order. */
function reachableFragments(
  selectionSets: readonly SelectionSetNode[],
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): FragmentDefinitionNode[] {
  const found = new Set<string>();
  const pending = [...selectionSets];
  for (let set = pending.pop(); set; set = pending.pop()) {
    visit(set, {
      FragmentSpread(node) {
        const fragment = fragments.get(node.name.value);
        if (!fragment || found.has(fragment.name.value)) return;
        found.add(fragment.name.value);
        pending.push(fragment.selectionSet);
      },
    });
  }
  return [...fragments.values()].filter((fragment) => found.has(fragment.name.value));
}

function variablesUsedIn(nodes: readonly (SelectionSetNode | FragmentDefinitionNode)[]): Set<string> {
  const used = new Set<string>();
  for (const node of nodes) {
    visit(node, {
      Variable(variable) {
        used.add(variable.name.value);
      },
    });
  }
  return used;
}

function freshName(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  for (let i = 2; taken.has(name); i += 1) name = `${base}${i}`;
  return name;
}

function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * Plans one subscription operation (already parsed, validated and within the operation limits).
 * `variables` are the coerced values (for arguments and @skip/@include); `rawVariables` the client's JSON,
 * passed on unchanged to the gateway query.
 */
export function planSubscription(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  rawVariables: Record<string, unknown>,
  definitions: ReadonlyMap<string, SubscriptionFieldDefinition>,
  viewer: Viewer | null,
): SubscriptionPlan {
  const subscriptionType = schema.getSubscriptionType();
  if (!subscriptionType) throw refuse('This graph has no subscriptions.');
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }

  const roots = collectFields(schema, fragments, variables, subscriptionType, operation.selectionSet);
  const [root, ...others] = roots.entries();
  if (!root || others.length > 0) throw refuse('A subscription must select exactly one field (after @skip and @include).');
  const [rootKey, rootNodes] = root;
  const rootNode = rootNodes[0] as FieldNode;
  const definition = definitions.get(rootNode.name.value);
  const fieldDef = subscriptionType.getFields()[rootNode.name.value];
  if (!definition || !fieldDef) throw refuse(`Subscription.${rootNode.name.value} is not served by this router yet.`);
  const returnType = getNamedType(fieldDef.type);
  if (!isObjectType(returnType)) throw new Error(`Subscription.${definition.field} must return an object type.`);

  const args = getArgumentValues(fieldDef, rootNode, variables);
  const listenKeys = definition.listenKeys(args, viewer);

  const rootSelections: SelectionSetNode = {
    kind: Kind.SELECTION_SET,
    selections: rootNodes.flatMap((node) => node.selectionSet?.selections ?? []),
  };

  const entries: PlanEntry[] = [];
  const gatewaySelections: FieldNode[] = [];
  const eventVariables: GatewayQuery['eventVariables'] = [];
  const variableDefinitions: VariableDefinitionNode[] = [];
  const takenNames = new Set((operation.variableDefinitions ?? []).map((d) => d.variable.name.value));
  const eventVariableOf = new Map<string, string>();
  const mergedSets: SelectionSetNode[] = [];

  /** The arguments of a gateway root field, each a variable whose value comes from the event. */
  const argumentsFor = (viaGateway: GatewayField<unknown>) =>
    Object.entries(viaGateway.args).map(([argName, arg]) => {
      const signature = `${viaGateway.rootField}.${argName}`;
      let variable = eventVariableOf.get(signature);
      if (!variable) {
        variable = freshName(`event${capitalize(viaGateway.rootField)}${capitalize(argName)}`, takenNames);
        takenNames.add(variable);
        eventVariableOf.set(signature, variable);
        eventVariables.push({ name: variable, value: arg.value });
        variableDefinitions.push({
          kind: Kind.VARIABLE_DEFINITION,
          variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variable } },
          type: parseType(arg.type),
        });
      }
      return {
        kind: Kind.ARGUMENT,
        name: { kind: Kind.NAME, value: argName },
        value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variable } },
      } as const;
    });

  // The whole value through the gateway: the client's selection, as written, under the Query field.
  const whole = definition.root !== undefined;
  if (definition.root) {
    mergedSets.push(rootSelections);
    gatewaySelections.push({
      kind: Kind.FIELD,
      alias: { kind: Kind.NAME, value: rootKey },
      name: { kind: Kind.NAME, value: definition.root.rootField },
      arguments: argumentsFor(definition.root),
      selectionSet: rootSelections,
    });
  }
  const children = whole ? new Map<string, FieldNode[]>() : collectFields(schema, fragments, variables, returnType, rootSelections);

  for (const [key, nodes] of children) {
    const name = (nodes[0] as FieldNode).name.value;
    if (name === '__typename') {
      entries.push({ key, from: 'typename' });
      continue;
    }
    const read = definition.eventFields[name];
    if (read) {
      entries.push({ key, from: 'event', field: name, read });
      continue;
    }
    const viaGateway = definition.gatewayFields[name];
    if (!viaGateway) throw new Error(`${returnType.name}.${name} is neither carried by the event nor fetched through the gateway.`);
    entries.push({ key, from: 'gateway' });
    const argumentNodes = argumentsFor(viaGateway);
    const selectionSet: SelectionSetNode = {
      kind: Kind.SELECTION_SET,
      selections: nodes.flatMap((node) => node.selectionSet?.selections ?? []),
    };
    mergedSets.push(selectionSet);
    gatewaySelections.push({
      kind: Kind.FIELD,
      alias: { kind: Kind.NAME, value: key },
      name: { kind: Kind.NAME, value: viaGateway.rootField },
      arguments: argumentNodes,
      selectionSet: selectionSet.selections.length > 0 ? selectionSet : undefined,
    });
  }

  let gateway: GatewayQuery | null = null;
  if (gatewaySelections.length > 0) {
    const usedFragments = reachableFragments(mergedSets, fragments);
    const used = variablesUsedIn([...mergedSets, ...usedFragments]);
    const clientVariables: Record<string, unknown> = {};
    for (const definitionNode of operation.variableDefinitions ?? []) {
      const name = definitionNode.variable.name.value;
      if (!used.has(name)) continue;
      variableDefinitions.push(definitionNode);
      if (Object.prototype.hasOwnProperty.call(rawVariables, name)) clientVariables[name] = rawVariables[name];
    }
    const query = print({
      kind: Kind.DOCUMENT,
      definitions: [
        {
          kind: Kind.OPERATION_DEFINITION,
          operation: 'query' as OperationDefinitionNode['operation'],
          name: { kind: Kind.NAME, value: `${capitalize(definition.field)}Event` },
          variableDefinitions,
          selectionSet: { kind: Kind.SELECTION_SET, selections: gatewaySelections },
        },
        ...usedFragments,
      ],
    });
    gateway = { query, variables: clientVariables, eventVariables };
  }

  const outline = entries.map((entry) => `${entry.key}:${entry.from === 'event' ? entry.field : entry.from}`);
  const selectionKey = JSON.stringify([definition.field, rootKey, whole, outline, gateway?.query ?? null, gateway?.variables ?? null]);
  return { definition, rootKey, typeName: returnType.name, listenKeys, whole, entries, gateway, selectionKey };
}

/**
 * Start-up check: every field of each served subscription's return type has a source (the event or the
 * gateway), so a field added to the SDL without teaching the router fails at start, not per event.
 */
export function checkSubscriptionFields(schema: GraphQLSchema, definitions: readonly SubscriptionFieldDefinition[]): void {
  const subscriptionType = schema.getSubscriptionType();
  for (const definition of definitions) {
    const field = subscriptionType?.getFields()[definition.field];
    if (!field) throw new Error(`The supergraph has no Subscription.${definition.field}; recompose or remove it from the router.`);
    const type = getNamedType(field.type);
    if (!isObjectType(type)) throw new Error(`Subscription.${definition.field} must return an object type.`);
    if (definition.root) {
      checkRootField(schema, definition, type);
      continue;
    }
    const fields = type.getFields();
    const missing = Object.keys(fields).filter((name) => !definition.eventFields[name] && !definition.gatewayFields[name]);
    if (missing.length > 0) {
      throw new Error(
        `${type.name}.${missing.join(', ')}: not carried by the ${definition.channel} event nor fetched through the gateway.`,
      );
    }
    // A gateway fetch can fail or find nothing; its field must be able to say so with null.
    const nonNull = Object.keys(definition.gatewayFields).filter((name) => fields[name] && isNonNullType(fields[name].type));
    if (nonNull.length > 0) throw new Error(`${type.name}.${nonNull.join(', ')}: a field fetched through the gateway must be nullable.`);
  }
}

/** A `root`-mode field: its Query field exists, returns the subscription's type nullably, and takes its arguments. */
function checkRootField(schema: GraphQLSchema, definition: SubscriptionFieldDefinition, type: GraphQLObjectType): void {
  const root = definition.root!;
  const field = `Subscription.${definition.field}`;
  if (Object.keys(definition.eventFields).length > 0 || Object.keys(definition.gatewayFields).length > 0) {
    throw new Error(`${field} is fetched whole through the gateway; it cannot also have event or gateway fields.`);
  }
  const queryField = schema.getQueryType()?.getFields()[root.rootField];
  if (!queryField) throw new Error(`${field} is fetched through Query.${root.rootField}, which the supergraph does not have.`);
  if (getNamedType(queryField.type) !== type || isNonNullType(queryField.type)) {
    throw new Error(`Query.${root.rootField} must return ${type.name} (nullable: null means the event is not for this subscriber).`);
  }
  const missing = Object.keys(root.args).filter((name) => !queryField.args.some((arg) => arg.name === name));
  if (missing.length > 0) throw new Error(`Query.${root.rootField} has no argument ${missing.join(', ')}.`);
}
