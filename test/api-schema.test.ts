/**
 * docs/schema.graphql, the public API schema that `npm run compose` publishes for integrators (the
 * router's introspection is off in production): it is the composed graph minus everything internal.
 */
import { readFileSync } from 'node:fs';
import { repoPath, SUBGRAPHS } from '@shelfwise/kit';
import { buildSchema, Kind, parse, type GraphQLObjectType } from 'graphql';
import { API_SCHEMA_GRAPHQL, compose } from '../scripts/compose.js';

const composition = compose();
const api = buildSchema(composition.apiSchema ?? '');

/** Every `Type.field` a subgraph marks @inaccessible. */
function inaccessibleFields(): string[] {
  const found: string[] = [];
  for (const { name } of SUBGRAPHS) {
    const doc = parse(readFileSync(repoPath('subgraphs', name, 'src', 'schema.graphql'), 'utf8'));
    for (const def of doc.definitions) {
      if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      for (const field of def.fields ?? []) {
        if (field.directives?.some((d) => d.name.value === 'inaccessible')) found.push(`${def.name.value}.${field.name.value}`);
      }
    }
  }
  return found;
}

describe('docs/schema.graphql', () => {
  it('is what compose produces now (npm run compose keeps it fresh)', () => {
    expect(composition.errors).toEqual([]);
    expect(readFileSync(API_SCHEMA_GRAPHQL, 'utf8')).toBe(composition.apiSchema);
  });

  it('leaves out every internal operation between services', () => {
    const internal = inaccessibleFields();
    expect(internal).toEqual(expect.arrayContaining(['Mutation.allocateCopyForLoan', 'Query.patronStanding', 'Query.borrowings']));
    for (const name of internal) {
      const [type, field] = name.split('.') as [string, string];
      const t = api.getType(type) as GraphQLObjectType | undefined;
      expect([name, t?.getFields()[field]]).toEqual([name, undefined]);
    }
  });

  it('carries the public names of API.md and no federation internals', () => {
    const mutation = api.getMutationType()!.getFields();
    for (const name of ['register', 'login', 'addBook', 'borrowBook', 'returnLoan', 'reserveBook', 'payFines', 'writeReview']) {
      expect([name, mutation[name]?.name]).toEqual([name, name]);
    }
    expect(Object.keys(api.getSubscriptionType()!.getFields()).sort()).toEqual(['bookAvailabilityChanged', 'notificationReceived']);
    const query = api.getQueryType()!.getFields();
    expect(query._entities).toBeUndefined();
    expect(query._service).toBeUndefined();
    expect(api.getType('join__Graph')).toBeUndefined();
  });
});
