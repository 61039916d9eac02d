/**
 * The planner's whole-root mode (`notificationReceived`) on a small schema: the gateway query it writes,
 * who may subscribe, and the start-up check of a definition's Query field.
 */
import { buildSchema, getOperationAST, parse } from 'graphql';
import { notificationReceived, type SubscriptionFieldDefinition } from '../src/subscriptions/fields.js';
import { checkSubscriptionFields, planSubscription } from '../src/subscriptions/plan.js';

const SDL = `
  type Notification { id: ID! kind: String! message: String! readAt: String }
  type Query { notification(id: ID!): Notification strict(id: ID!): Notification! }
  type Subscription { notificationReceived: Notification! }
`;
const schema = buildSchema(SDL);
const definitions = new Map<string, SubscriptionFieldDefinition>([
  ['notificationReceived', notificationReceived as unknown as SubscriptionFieldDefinition],
]);
const viewer = { userId: 'AAAAAAAA-0000-4000-8000-000000000001', role: 'PATRON' as const };

function plan(query: string, variables: Record<string, unknown> = {}, who: typeof viewer | null = viewer) {
  const document = parse(query);
  return planSubscription(schema, document, getOperationAST(document)!, variables, variables, definitions, who);
}

describe('planning notificationReceived', () => {
  it('sends the selection as written under Query.notification, with the used client variables and fragments', () => {
    const p = plan(
      `subscription ($m: Boolean!, $unused: Int) { n: notificationReceived { __typename ...F } }
       fragment F on Notification { id message @include(if: $m) }`,
      { m: true, unused: 3 },
    );
    expect(p.whole).toBe(true);
    expect(p.entries).toEqual([]);
    expect(p.rootKey).toBe('n');
    expect(p.listenKeys).toEqual(['aaaaaaaa-0000-4000-8000-000000000001']);
    expect(p.gateway?.variables).toEqual({ m: true });
    expect(p.gateway?.eventVariables.map((v) => v.name)).toEqual(['eventNotificationId']);
    expect(p.gateway?.eventVariables[0]?.value({ userId: 'u', notificationId: 'n-1', kind: 'OVERDUE', at: '' })).toBe('n-1');
    expect(p.gateway?.query.replace(/\s+/g, ' ').trim()).toBe(
      'query NotificationReceivedEvent($eventNotificationId: ID!, $m: Boolean!) { n: notification(id: $eventNotificationId) { __typename ...F } } fragment F on Notification { id message @include(if: $m) }',
    );
  });

  it('gives equal selections equal keys, and different ones different keys', () => {
    const a = plan('subscription { notificationReceived { id kind } }');
    const b = plan('subscription { notificationReceived { id kind } }', {}, { ...viewer, userId: 'someone-else' });
    const c = plan('subscription { notificationReceived { id message } }');
    expect(a.selectionKey).toBe(b.selectionKey);
    expect(a.selectionKey).not.toBe(c.selectionKey);
  });

  it('refuses an anonymous subscriber with UNAUTHENTICATED', () => {
    expect(() => plan('subscription { notificationReceived { id } }', {}, null)).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) }),
    );
  });
});

describe('the start-up check of a whole-root field', () => {
  const variant = (root: NonNullable<SubscriptionFieldDefinition['root']>, extra: Partial<SubscriptionFieldDefinition> = {}) =>
    ({ ...notificationReceived, root, ...extra }) as unknown as SubscriptionFieldDefinition;
  const id = { id: { type: 'ID!', value: () => 'x' } };

  it('accepts Query.notification(id:)', () => {
    expect(() => checkSubscriptionFields(schema, [...definitions.values()])).not.toThrow();
  });

  it('refuses a missing Query field, a non-null one, an unknown argument, and event fields beside the root', () => {
    expect(() => checkSubscriptionFields(schema, [variant({ rootField: 'nope', args: id })])).toThrow(/Query\.nope/);
    expect(() => checkSubscriptionFields(schema, [variant({ rootField: 'strict', args: id })])).toThrow(/nullable/);
    expect(() =>
      checkSubscriptionFields(schema, [variant({ rootField: 'notification', args: { key: { type: 'ID!', value: () => 'x' } } })]),
    ).toThrow(/no argument key/);
    expect(() =>
      checkSubscriptionFields(schema, [variant({ rootField: 'notification', args: id }, { eventFields: { id: () => 'x' } })]),
    ).toThrow(/cannot also have/);
  });
});
