import { readFileSync } from 'node:fs';
import { repoPath } from '@shelfwise/kit';
import { Kind, parse, type ConstValueNode } from 'graphql';

/** The committed supergraph, written by `npm run compose`. */
export const SUPERGRAPH_PATH = repoPath('supergraph.graphql');

export function readSupergraph(path = SUPERGRAPH_PATH): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read the supergraph at ${path}; run \`npm run compose\` first.`, { cause: err });
  }
}

export interface SubgraphRoute {
  /** The subgraph's name as composed (e.g. `books`). */
  name: string;
  /** Its routing URL in the supergraph (overridable at the router). */
  url: string;
}

function stringArg(args: readonly { name: { value: string }; value: ConstValueNode }[] | undefined, name: string): string | undefined {
  const arg = args?.find((a) => a.name.value === name);
  return arg?.value.kind === Kind.STRING ? arg.value.value : undefined;
}

/** The subgraphs a supergraph routes to, from its `join__Graph` enum. */
export function subgraphRoutes(supergraphSdl: string): SubgraphRoute[] {
  const document = parse(supergraphSdl, { noLocation: true });
  const routes: SubgraphRoute[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const directive = value.directives?.find((d) => d.name.value === 'join__graph');
      const name = stringArg(directive?.arguments, 'name');
      const url = stringArg(directive?.arguments, 'url');
      if (name !== undefined && url !== undefined) routes.push({ name, url });
    }
  }
  if (routes.length === 0) throw new Error('The supergraph lists no subgraphs (no join__Graph enum); is it a composed supergraph?');
  return routes;
}
