/**
 * The scripted server the component and cache tests put behind the app's real graphcache configuration:
 * a urql client whose only network is an exchange that answers each operation from the test's script.
 */
import { Client, makeResult, type Exchange, type Operation, type OperationResult } from 'urql';
import { filter, fromValue, mergeMap, pipe, type Source } from 'wonka';
import { cacheExchange } from '@urql/exchange-graphcache';
import { cacheOptions } from '../src/cache';

/** The operation's name (`query TestInbox { … }` → `TestInbox`), '' for an anonymous one. */
export function operationName(operation: Operation): string {
  for (const definition of operation.query.definitions) {
    if (definition.kind === 'OperationDefinition') return definition.name?.value ?? '';
  }
  return '';
}

export interface Script {
  /** Answers each query and mutation (and each subscription when there are no `events`). */
  respond(operation: Operation): OperationResult;
  /** With it, every subscription receives each of these as its `notificationReceived`. */
  events?: Source<Record<string, unknown>>;
  /** Sees every operation that reaches the server, subscriptions included, before it is answered. */
  seen?(operation: Operation): void;
}

/** A client with the app's cache in front of the scripted server. */
export function scriptedClient(script: Script): Client {
  const server: Exchange = () => (operations$) =>
    pipe(
      operations$,
      filter((operation) => operation.kind !== 'teardown'),
      mergeMap((operation): Source<OperationResult> => {
        script.seen?.(operation);
        const { events } = script;
        if (operation.kind === 'subscription' && events) {
          return pipe(
            events,
            mergeMap((notification) => fromValue(makeResult(operation, { data: { notificationReceived: notification } }))),
          );
        }
        return fromValue(script.respond(operation));
      }),
    );
  return new Client({ url: 'http://test.invalid/graphql', exchanges: [cacheExchange(cacheOptions), server] });
}

/** What a script throws for an operation it has no answer for. */
export function unscripted(operation: Operation): Error {
  return new Error(`No scripted answer for ${operationName(operation)}`);
}
