/**
 * The one list of Shelfwise services. supergraph.yaml, the embedded launcher, docker-compose checks and
 * the router's URL table all derive from it.
 */

export const SUBGRAPH_NAMES = ['users', 'books', 'loans', 'reservations', 'payments', 'reviews', 'notifications'] as const;

export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export interface SubgraphInfo {
  name: SubgraphName;
  /** Default port when the service runs on its own or embedded. */
  port: number;
}

export const SUBGRAPHS: readonly SubgraphInfo[] = SUBGRAPH_NAMES.map((name, index) => ({ name, port: 4001 + index }));

export const ROUTER_PORT = 4000;

export function isSubgraphName(value: string): value is SubgraphName {
  return (SUBGRAPH_NAMES as readonly string[]).includes(value);
}

export function subgraphInfo(name: SubgraphName): SubgraphInfo {
  const info = SUBGRAPHS.find((s) => s.name === name);
  if (!info) throw new Error(`Unknown subgraph ${name}`);
  return info;
}

/** The local routing URL of a subgraph, as written in supergraph.yaml. */
export function defaultSubgraphUrl(name: SubgraphName, host = 'localhost'): string {
  return `http://${host}:${subgraphInfo(name).port}/graphql`;
}

/** Environment variable that overrides a subgraph's routing URL at the router, e.g. SHELFWISE_BOOKS_URL. */
export function subgraphUrlEnvVar(name: SubgraphName): string {
  return `SHELFWISE_${name.toUpperCase()}_URL`;
}
