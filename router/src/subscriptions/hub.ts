import { ErrorCode, type EventBus, type Logger, type Viewer } from '@shelfwise/kit';
import { GraphQLError, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import { SERVICE_UNAVAILABLE_MESSAGE } from '../errors.js';
import type { SubscriptionFieldDefinition } from './fields.js';
import type { SubscriptionSink } from './frames.js';
import type { SubscriptionPlan } from './plan.js';
import { SubscriptionStream } from './stream.js';

export type { SubscriptionSink } from './frames.js';

/** Runs a query through the gateway as `viewer` (the router's own operation: not charged to any rate limit). */
export type GatewayExecute = (
  query: string,
  variables: Record<string, unknown>,
  viewer: Viewer | null,
) => Promise<FormattedExecutionResult>;

export interface SubscriptionHubOptions {
  bus: EventBus;
  execute: GatewayExecute;
  definitions: readonly SubscriptionFieldDefinition[];
  logger: Logger;
}

/** What the hub holds right now, and what it has done (tests count leaks and executions with it). */
export interface SubscriptionHubStats {
  /** Live subscriptions. */
  subscribers: number;
  /** Distinct (selection, variables, permission scope) groups among them. */
  groups: number;
  /** Bus channels this router is subscribed to (one per channel with at least one subscriber). */
  busSubscriptions: number;
  /** Events received from the bus that at least one subscription listened to. */
  events: number;
  /** Queries sent through the gateway to resolve events (one per event per group that needed one). */
  gatewayExecutions: number;
  /** Frames written to sockets (not counting sockets found closing, or closed for being too far behind). */
  framesSent: number;
  /**
   * GraphQL results serialized to JSON: one per event per group that sends a frame, however many
   * sockets the frame goes to.
   */
  payloadsSerialized: number;
}

interface Member {
  sink: SubscriptionSink;
  keys: readonly string[];
  group: Group;
}

interface Group {
  key: string;
  plan: SubscriptionPlan;
  /** The caller every event of this group is resolved as (null: anonymous). */
  viewer: Viewer | null;
  /** Members by the key they listen on (a book id). */
  byKey: Map<string, Set<Member>>;
  size: number;
  /** Events are rendered one after the other, so a group's frames keep the order of the events. */
  tail: Promise<void>;
}

interface Channel {
  name: string;
  definition: SubscriptionFieldDefinition;
  groups: Map<string, Group>;
  members: number;
  /** Set while the bus subscription is held. */
  unsubscribe?: () => Promise<void>;
  /** Bus subscribe/unsubscribe calls, one after the other. */
  chain: Promise<void>;
}

/**
 * The permission scope a subscription's events are resolved in: the signed-in user (with their role), or
 * anonymous. Subscriptions share a resolution only within one scope, so a field that depends on who asks
 * (own data, staff-only data) is always resolved as the subscriber; anonymous subscribers — the bulk of a
 * public catalogue's watchers — all share one.
 */
export function scopeOf(viewer: Viewer | null): string {
  return viewer ? `user:${viewer.userId}:${viewer.role}` : 'anonymous';
}

/**
 * In-process fan-out of bus events to WebSocket subscriptions. One bus subscription per channel per
 * router; subscriptions with the same selection, variables and scope form a group, and each event is
 * resolved (through the gateway when the selection needs it) and serialized once per group, then the
 * same bytes go to every member listening on the event's key, each sink only wrapping them in its own
 * envelope (frames.ts).
 */
export class SubscriptionHub {
  private readonly channels = new Map<string, Channel>();
  private readonly streams = new Set<SubscriptionStream>();
  private disposed = false;
  private counters = { events: 0, gatewayExecutions: 0, framesSent: 0, payloadsSerialized: 0 };

  constructor(private readonly options: SubscriptionHubOptions) {
    for (const definition of options.definitions) {
      this.channels.set(definition.channel, {
        name: definition.channel,
        definition,
        groups: new Map(),
        members: 0,
        chain: Promise.resolve(),
      });
    }
  }

  /**
   * Registers a subscription and resolves once the bus subscription it needs is active (so an event
   * published afterwards reaches it). Rejects with SERVICE_UNAVAILABLE when the bus cannot subscribe.
   */
  async subscribe(plan: SubscriptionPlan, viewer: Viewer | null, sink: SubscriptionSink): Promise<SubscriptionStream> {
    if (this.disposed) throw new Error('The subscription hub has stopped.');
    const channel = this.channels.get(plan.definition.channel);
    if (!channel) throw new Error(`No channel for Subscription.${plan.definition.field}.`);
    const key = `${plan.selectionKey}\n${scopeOf(viewer)}`;
    let group = channel.groups.get(key);
    if (!group) {
      group = { key, plan, viewer, byKey: new Map(), size: 0, tail: Promise.resolve() };
      channel.groups.set(key, group);
    }
    const member: Member = { sink, keys: plan.listenKeys, group };
    for (const listenKey of member.keys) {
      let set = group.byKey.get(listenKey);
      if (!set) {
        set = new Set();
        group.byKey.set(listenKey, set);
      }
      set.add(member);
    }
    group.size += 1;
    channel.members += 1;

    const stream = new SubscriptionStream(() => {
      this.streams.delete(stream);
      this.remove(channel, member);
    });
    this.streams.add(stream);
    try {
      await this.sync(channel);
    } catch (err) {
      stream.finish();
      this.options.logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) }, channel: channel.name },
        'bus subscribe failed',
      );
      throw new GraphQLError('Live updates are unavailable right now; try again shortly.', {
        extensions: { code: ErrorCode.SERVICE_UNAVAILABLE },
      });
    }
    return stream;
  }

  stats(): SubscriptionHubStats {
    let subscribers = 0;
    let groups = 0;
    let busSubscriptions = 0;
    for (const channel of this.channels.values()) {
      subscribers += channel.members;
      groups += channel.groups.size;
      if (channel.unsubscribe) busSubscriptions += 1;
    }
    return { subscribers, groups, busSubscriptions, ...this.counters };
  }

  /** Ends every subscription and releases every bus subscription. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const stream of [...this.streams]) stream.finish();
    await Promise.all([...this.channels.values()].map((channel) => this.sync(channel).catch(() => undefined)));
    await Promise.all([...this.channels.values()].flatMap((channel) => [...channel.groups.values()].map((group) => group.tail)));
  }

  private remove(channel: Channel, member: Member): void {
    const { group } = member;
    for (const listenKey of member.keys) {
      const set = group.byKey.get(listenKey);
      if (!set?.delete(member)) continue;
      if (set.size === 0) group.byKey.delete(listenKey);
    }
    group.size -= 1;
    channel.members -= 1;
    if (group.size === 0 && channel.groups.get(group.key) === group) channel.groups.delete(group.key);
    // Fire and forget: the last one out releases the bus subscription (errors are logged in sync).
    this.sync(channel).catch(() => undefined);
  }

  /** Brings the bus subscription in line with the members: held while there is one, released after. */
  private sync(channel: Channel): Promise<void> {
    const run = channel.chain.then(async () => {
      const wanted = channel.members > 0 && !this.disposed;
      if (wanted && !channel.unsubscribe) {
        channel.unsubscribe = await this.options.bus.subscribe(channel.name, (message) => this.onMessage(channel, message));
      } else if (!wanted && channel.unsubscribe) {
        const unsubscribe = channel.unsubscribe;
        channel.unsubscribe = undefined;
        try {
          await unsubscribe();
        } catch (err) {
          this.options.logger.warn(
            { err: { message: err instanceof Error ? err.message : String(err) }, channel: channel.name },
            'bus unsubscribe failed',
          );
        }
      }
    });
    channel.chain = run.catch(() => undefined);
    return run;
  }

  private onMessage(channel: Channel, message: unknown): void {
    const event = channel.definition.parse(message);
    if (event === null) {
      this.options.logger.warn({ channel: channel.name }, 'dropped a bus message that is not a valid event');
      return;
    }
    const key = channel.definition.eventKey(event);
    let wanted = false;
    for (const group of channel.groups.values()) {
      if (!group.byKey.has(key)) continue;
      wanted = true;
      group.tail = group.tail
        .then(() => this.deliver(group, event, key))
        .catch((err: unknown) => {
          this.options.logger.error({ err, channel: channel.name }, 'subscription delivery failed');
        });
    }
    if (wanted) this.counters.events += 1;
  }

  private async deliver(group: Group, event: unknown, key: string): Promise<void> {
    if (!group.byKey.get(key)?.size) return;
    const result = await this.render(group, event);
    if (result === null) return;
    // Read again: members may have left (or joined) while the gateway answered.
    const members = group.byKey.get(key);
    if (!members) return;
    // Serialized once, as bytes: each sink only frames these bytes in its own envelope.
    const payload = Buffer.from(JSON.stringify(result));
    this.counters.payloadsSerialized += 1;
    let sent = 0;
    for (const member of members) if (member.sink.send(payload)) sent += 1;
    this.counters.framesSent += sent;
  }

  /**
   * One event as this group's GraphQL result: at most one gateway query. Null when the whole value comes
   * from the gateway and it answered null without an error (not this subscriber's to see).
   */
  private async render(group: Group, event: unknown): Promise<FormattedExecutionResult | null> {
    const { plan } = group;
    let data: Record<string, unknown> | null | undefined;
    let errors: GraphQLFormattedError[] = [];
    if (plan.gateway) {
      this.counters.gatewayExecutions += 1;
      const variables: Record<string, unknown> = { ...plan.gateway.variables };
      for (const variable of plan.gateway.eventVariables) variables[variable.name] = variable.value(event);
      try {
        const result = await this.options.execute(plan.gateway.query, variables, group.viewer);
        data = result.data;
        // The gateway's paths start at its root fields: this object's keys, or (whole) the root key itself.
        errors = plan.whole
          ? [...(result.errors ?? [])]
          : (result.errors ?? []).map((error) => (error.path ? { ...error, path: [plan.rootKey, ...error.path] } : error));
      } catch (err) {
        this.options.logger.error({ err }, 'resolving a subscription event through the gateway failed');
        errors = [{ message: SERVICE_UNAVAILABLE_MESSAGE, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } }];
      }
    }
    if (plan.whole) {
      const whole = data?.[plan.rootKey] ?? null;
      if (whole === null && errors.length === 0) return null;
      // A failed fetch of a non-null root field nulls the whole result, as in any GraphQL response.
      const result: FormattedExecutionResult = whole === null ? { data: null } : { data: { [plan.rootKey]: whole } };
      if (errors.length > 0) result.errors = errors;
      return result;
    }
    const value: Record<string, unknown> = {};
    for (const entry of plan.entries) {
      if (entry.from === 'typename') value[entry.key] = plan.typeName;
      else if (entry.from === 'event') value[entry.key] = entry.read(event);
      else value[entry.key] = data?.[entry.key] ?? null;
    }
    const result: FormattedExecutionResult = { data: { [plan.rootKey]: value } };
    if (errors.length > 0) result.errors = errors;
    return result;
  }
}
