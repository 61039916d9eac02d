/**
 * The subscribers of `bench/src/subscriptions.ts`, on a worker thread of the bench process (`--clients`
 * threads share them), so reading a thousand sockets is not one event loop's queue: browsers each read
 * their own socket. Each subscriber is a raw graphql-transport-ws socket (anonymous) with its own random
 * subscription id, as graphql-ws clients choose them, and checks every frame it reads.
 *
 * Protocol with the parent: `workerData` is a {@link ClientSetup}; the worker posts `{ type: 'ready' }`
 * once all its subscriptions are acknowledged, waits for `{ type: 'finish' }`, then posts
 * `{ type: 'report', report }` ({@link ClientReport}) and closes its sockets.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';

export interface ClientSetup {
  url: string;
  query: string;
  bookIds: string[];
  /** [book id, title]: what `book { title }` must say in every frame. */
  titles: [string, string][];
  subscribers: number;
  totalEvents: number;
  /** Int32Array(1), shared: deliveries so far across every thread (the parent waits on it to drain). */
  delivered: SharedArrayBuffer;
}

export interface ClientReport {
  /**
   * When each subscriber received each event (`subscriber * totalEvents + seq`), in ms on the clock every
   * thread shares (`performance.timeOrigin + performance.now()`); 0 = never.
   */
  receivedAt: Float64Array;
  duplicates: number;
  /** `next` frames that were not the subscription's, or not whole (errors, a wrong or missing title). */
  badFrames: number;
  /** Subscribers whose socket closed before the end. */
  closed: number;
  /** The first few problems, as text. */
  errors: string[];
}

/** Milliseconds on a clock every thread of the process shares. */
export const sharedNow = () => performance.timeOrigin + performance.now();

interface NextMessage {
  id?: string;
  type: string;
  payload?: {
    data?: { bookAvailabilityChanged?: { bookId: string; availableCopies: number; book: { title: string } | null } };
    errors?: unknown[];
  };
}

async function run(setup: ClientSetup): Promise<void> {
  const port = parentPort!;
  const { totalEvents } = setup;
  const titles = new Map(setup.titles);
  const delivered = new Int32Array(setup.delivered);
  const receivedAt = new Float64Array(setup.subscribers * totalEvents);
  const report: ClientReport = { receivedAt, duplicates: 0, badFrames: 0, closed: 0, errors: [] };
  const problem = (text: string) => {
    if (report.errors.length < 5) report.errors.push(text);
  };
  const sockets: WebSocket[] = [];

  const open = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(setup.url, 'graphql-transport-ws', { perMessageDeflate: false });
      sockets.push(socket);
      const id = randomUUID();
      const base = index * totalEvents;
      let acked = false;
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
      socket.on('error', (err) => {
        problem(err.message);
        if (!acked) reject(err);
      });
      socket.on('close', (code, reason) => {
        report.closed += 1;
        if (!acked) reject(new Error(`closed before connection_ack: ${code} ${reason.toString()}`));
      });
      socket.on('message', (data: Buffer) => {
        const now = sharedNow();
        const message = JSON.parse(data.toString()) as NextMessage;
        if (message.type === 'next') {
          const value = message.payload?.data?.bookAvailabilityChanged;
          const seq = value?.availableCopies;
          // Every frame must be this subscription's and whole: the event's fields and the book's title from the gateway.
          if (
            message.id !== id ||
            message.payload?.errors !== undefined ||
            value?.book?.title !== titles.get(value?.bookId ?? '') ||
            seq === undefined ||
            !Number.isInteger(seq) ||
            seq < 0 ||
            seq >= totalEvents
          ) {
            report.badFrames += 1;
            problem(`unexpected frame ${data.toString().slice(0, 300)}`);
            return;
          }
          if (receivedAt[base + seq] !== 0) {
            report.duplicates += 1;
            return;
          }
          receivedAt[base + seq] = now;
          Atomics.add(delivered, 0, 1);
        } else if (message.type === 'connection_ack') {
          acked = true;
          socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: setup.query, variables: { ids: setup.bookIds } } }));
          resolve();
        } else if (message.type === 'error' || message.type === 'complete') {
          problem(`${message.type}: ${data.toString().slice(0, 200)}`);
        }
      });
    });

  // Connect in batches: a thousand simultaneous handshakes would measure the accept queue, not push.
  for (let i = 0; i < setup.subscribers; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, setup.subscribers - i) }, (_, j) => open(i + j)));
  }
  port.postMessage({ type: 'ready' });
  port.once('message', () => {
    port.postMessage({ type: 'report', report });
    for (const socket of sockets) socket.close(1000);
    port.close();
  });
}

if (parentPort && workerData) await run(workerData as ClientSetup);
