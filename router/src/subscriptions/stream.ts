/**
 * The async iterator graphql-ws holds for one subscription. It yields nothing: frames are serialized once
 * per group and written straight to the socket by the hub (see hub.ts), so graphql-ws only needs it to
 * know the subscription is alive and to end it. `return()` (the client's `complete`, or the socket
 * closing) runs the cleanup at once and exactly once, and a pending `next()` settles as done — unlike an
 * `async function*`, whose `return()` waits for a pending `yield` and left its listener behind.
 */
export class SubscriptionStream implements AsyncIterableIterator<never> {
  private finished = false;
  private waiting: ((result: IteratorResult<never>) => void)[] = [];

  constructor(private readonly cleanup: () => void) {}

  get done(): boolean {
    return this.finished;
  }

  next(): Promise<IteratorResult<never>> {
    if (this.finished) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  return(): Promise<IteratorResult<never>> {
    this.finish();
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(error?: unknown): Promise<IteratorResult<never>> {
    this.finish();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  /** Ends the subscription from the server's side (graphql-ws then sends `complete`). Idempotent. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.cleanup();
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
