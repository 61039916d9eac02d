import { badInput } from '@shelfwise/kit';
import type { SubscriptionResolvers } from '../generated/graphql.js';

/**
 * `notificationReceived` is declared here so it composes into the supergraph, but the router serves it
 * over graphql-ws (it listens on NOTIFICATION_CHANNEL and resolves each new notification through the
 * gateway, as the recipient). A subscription reaching this subgraph over HTTP can only be a mistake: say
 * where to go instead. A plain function, not `{ subscribe }`: over HTTP the field's resolver is what runs
 * (after the kit's access wrapper, which only wraps functions).
 */
export const Subscription: SubscriptionResolvers = {
  notificationReceived: () => {
    throw badInput(
      'notificationReceived is a subscription served by the router over graphql-ws: open a WebSocket to the router at ws://<router>/graphql (protocol graphql-transport-ws). It cannot run over HTTP.',
    );
  },
};
