/**
 * How subscription frames reach sockets (#9): each event's result is serialized once per group, each
 * subscription's `next` frame is written straight to its TCP stream (frames.ts), and one timer keeps
 * every socket alive (keepAlive.ts) — a real `ws` server and clients for the framing, ordering,
 * slow-reader and keep-alive rules, the whole platform for the once-per-group count and keep-alive
 * through the router.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { BOOK_AVAILABILITY_CHANNEL, ServiceClock, type BookAvailabilityEvent } from '@shelfwise/kit';
import { eventually } from '@shelfwise/testkit';
import { WebSocket, WebSocketServer } from 'ws';
import { startPlatform, type Platform } from '../src/platform.js';
import { frameSink, SLOW_CONSUMER_CLOSE_CODE } from '../src/subscriptions/frames.js';
import { KeepAlive } from '../src/subscriptions/keepAlive.js';
import { connect, subscribe, wsUrl, type Connection, type Subscription } from './subscriptions.helpers.js';

const START_TIMEOUT_MS = 240_000;
/** The router's ping interval in the platform tests: short, so a silent peer is dropped within the test. */
const KEEP_ALIVE_MS = 300;

interface Pair {
  /** The server's side: the `ws` socket and the TCP stream it was upgraded on, as the router holds them. */
  socket: WebSocket;
  stream: Duplex;
  client: WebSocket;
  /** Text messages the client read, in order. */
  messages: string[];
  closed: Promise<{ code: number; reason: string }>;
}

describe('frameSink on a real WebSocket', () => {
  let http: Server;
  let wss: WebSocketServer;
  const accepted: { socket: WebSocket; stream: Duplex }[] = [];
  const clients: WebSocket[] = [];

  beforeAll(async () => {
    // As the router runs it: no permessage-deflate, the upgraded stream kept beside its socket.
    wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    http = createServer();
    http.on('upgrade', (request, stream: Duplex, head) =>
      wss.handleUpgrade(request, stream, head, (socket) => accepted.push({ socket, stream })),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await eventually(() => [...wss.clients].every((socket) => socket.readyState === WebSocket.CLOSED));
    accepted.splice(0);
  });

  afterAll(async () => {
    wss.close();
    await new Promise((resolve) => http.close(resolve));
  });

  async function pair(clientOptions: { autoPong?: boolean } = {}): Promise<Pair> {
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`, { perMessageDeflate: false, ...clientOptions });
    clients.push(client);
    const messages: string[] = [];
    client.on('message', (data: Buffer, isBinary: boolean) => messages.push(isBinary ? '<binary>' : data.toString('utf8')));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      client.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    await eventually(() => accepted.length > 0);
    const { socket, stream } = accepted.shift()!;
    return { socket, stream, client, messages, closed };
  }

  it('writes `next` messages the client reads as text, at each length encoding, in order with ws’s own sends', async () => {
    const { socket, stream, messages } = await pair();
    // An id with characters JSON must escape.
    const id = 'sub "7" \\ ✓';
    const sink = frameSink({ socket, stream, id, maxBufferedBytes: 1 << 20 });
    const results = [
      { data: { n: 1 } }, // frame under 126 bytes: 7-bit length
      { data: { text: 'é'.repeat(200) } }, // 126–65,535 bytes: 16-bit length (UTF-8, not UTF-16, lengths)
      { data: { text: 'x'.repeat(70_000) } }, // over 65,535 bytes: 64-bit length
    ];
    for (const [i, result] of results.entries()) {
      expect(sink.send(Buffer.from(JSON.stringify(result)))).toBe(true);
      socket.send(JSON.stringify({ type: 'pong', payload: { after: i } }));
    }
    await eventually(() => messages.length === 6, 5000, 'six messages');
    expect(messages.map((text) => JSON.parse(text) as unknown)).toEqual(
      results.flatMap((payload, i) => [
        { id, type: 'next', payload },
        { type: 'pong', payload: { after: i } },
      ]),
    );
  });

  it('closes a socket that stops reading with 1013 once more than maxBufferedBytes wait, and writes nothing after', async () => {
    const { socket, stream, client, messages, closed } = await pair();
    const maxBufferedBytes = 256 * 1024;
    const sink = frameSink({ socket, stream, id: '1', maxBufferedBytes });
    client.pause(); // the peer stops reading: the kernel's buffers fill, then the stream's own queue
    const blob = 'x'.repeat(64 * 1024);
    let written = 0;
    // Bounded: the kernel takes a few MiB at most before the stream starts queueing.
    while (written < 2000 && sink.send(Buffer.from(JSON.stringify({ data: { seq: written, blob } })))) written += 1;
    expect(written).toBeLessThan(2000);
    expect(socket.readyState).toBe(WebSocket.CLOSING);
    // The memory held for this peer: the limit, plus at most the one frame that crossed it and the close frame.
    expect(socket.bufferedAmount).toBeGreaterThan(maxBufferedBytes);
    expect(socket.bufferedAmount).toBeLessThanOrEqual(maxBufferedBytes + blob.length + 1024);
    const held = stream.writableLength;
    expect(sink.send(Buffer.from('{"data":{"late":true}}'))).toBe(false);
    expect(stream.writableLength).toBe(held);

    client.resume();
    expect(await closed).toEqual({ code: SLOW_CONSUMER_CLOSE_CODE, reason: 'Too far behind; reconnect and refetch.' });
    // Every frame written arrived whole and in order; nothing after the close.
    expect(messages).toHaveLength(written);
    expect(messages.map((text) => (JSON.parse(text) as { payload: { data: { seq: number } } }).payload.data.seq)).toEqual(
      Array.from({ length: written }, (_, i) => i),
    );
  });

  it('writes nothing to a socket that is closing', async () => {
    const { socket, stream, messages, closed } = await pair();
    const sink = frameSink({ socket, stream, id: '1', maxBufferedBytes: 1 << 20 });
    socket.close(1000, 'done');
    expect(sink.send(Buffer.from('{"data":{}}'))).toBe(false);
    expect(await closed).toEqual({ code: 1000, reason: 'done' });
    expect(messages).toEqual([]);
  });

  it('keeps answering sockets open and terminates one that stops answering pings, on one timer', async () => {
    const keepAlive = new KeepAlive(240);
    try {
      const answering = await pair();
      const silent = await pair({ autoPong: false });
      let answeringPings = 0;
      let silentPings = 0;
      answering.client.on('ping', () => (answeringPings += 1));
      silent.client.on('ping', () => (silentPings += 1));
      keepAlive.add(answering.socket);
      keepAlive.add(silent.socket);

      // Pinged, unanswered by its next turn: terminated (no close frame, so the client sees 1006).
      expect(await silent.closed).toEqual({ code: 1006, reason: '' });
      expect(silentPings).toBe(1);
      // The answering socket was pinged meanwhile and is open; it keeps being pinged.
      const seen = answeringPings;
      expect(seen).toBeGreaterThanOrEqual(1);
      await eventually(() => answeringPings >= seen + 2, 5000, 'two more pings');
      expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      keepAlive.stop();
    }
  });
});

describe('on the platform', () => {
  let platform: Platform;
  let bookId: string;
  const open: Connection[] = [];

  beforeAll(async () => {
    platform = await startPlatform({ clock: new ServiceClock(true), router: { subscriptions: { keepAliveMs: KEEP_ALIVE_MS } } });
    const book = await platform.subgraphs.books.books.create({ isbn: '9780000003001', title: 'Framed', authors: ['Someone'], copies: 2 });
    bookId = book.id;
  }, START_TIMEOUT_MS);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.dispose()));
    await eventually(() => platform.router.subscriptionStats().connections === 0, 5000, 'every socket to close');
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('serializes each event once per group however many sockets it goes to', async () => {
    const stats = () => platform.router.subscriptionStats();
    const WITH_BOOK = 'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { bookId availableCopies book { title } } }';
    const COPIES_ONLY = 'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { availableCopies } }';
    const watch = (query: string) => {
      const connection = connect(platform.router.url);
      open.push(connection);
      return subscribe<{ bookAvailabilityChanged: Record<string, unknown> }>(connection, query, { ids: [bookId] });
    };
    const withBook: Subscription<{ bookAvailabilityChanged: Record<string, unknown> }>[] = [];
    for (let i = 0; i < 4; i += 1) withBook.push(watch(WITH_BOOK));
    const copiesOnly = [watch(COPIES_ONLY), watch(COPIES_ONLY)];
    await eventually(() => stats().subscribers === 6);
    expect(stats().groups).toBe(2);

    const before = stats();
    const EVENTS = 3;
    for (let n = 0; n < EVENTS; n += 1) {
      const event: BookAvailabilityEvent = { bookId, availableCopies: n, totalCopies: 2, at: platform.clock.now().toISOString() };
      await platform.bus.publish(BOOK_AVAILABILITY_CHANNEL, event);
    }
    const all = [...withBook, ...copiesOnly];
    await eventually(() => all.every((s) => s.results.length === EVENTS), 10_000, 'every event on every socket');

    const after = stats();
    expect(after.payloadsSerialized - before.payloadsSerialized).toBe(EVENTS * 2);
    expect(after.framesSent - before.framesSent).toBe(EVENTS * all.length);
    expect(after.gatewayExecutions - before.gatewayExecutions).toBe(EVENTS);
    for (const s of withBook) {
      expect(s.results).toEqual(
        [0, 1, 2].map((n) => ({ data: { bookAvailabilityChanged: { bookId, availableCopies: n, book: { title: 'Framed' } } } })),
      );
    }
    for (const s of copiesOnly) {
      expect(s.results).toEqual([0, 1, 2].map((n) => ({ data: { bookAvailabilityChanged: { availableCopies: n } } })));
    }
  });

  it('pings every socket and drops one that stops answering, leaving nothing behind', async () => {
    const stats = () => platform.router.subscriptionStats();
    const answering = connect(platform.router.url);
    open.push(answering);
    const watch = subscribe(answering, 'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { availableCopies } }', {
      ids: [bookId],
    });
    await eventually(() => stats().subscribers === 1);

    // A peer that completes the handshake and subscribes, then never answers a ping.
    const silent = new WebSocket(wsUrl(platform.router.url), 'graphql-transport-ws', { autoPong: false });
    let pings = 0;
    silent.on('ping', () => (pings += 1));
    const closed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
    silent.on('open', () => silent.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    silent.on('message', (data: Buffer) => {
      if ((JSON.parse(data.toString()) as { type: string }).type !== 'connection_ack') return;
      silent.send(
        JSON.stringify({
          id: 'quiet',
          type: 'subscribe',
          payload: {
            query: 'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { availableCopies } }',
            variables: { ids: [bookId] },
          },
        }),
      );
    });
    await eventually(() => stats().subscribers === 2);

    expect(await closed).toBe(1006);
    expect(pings).toBe(1);
    await eventually(() => stats().subscribers === 1 && stats().connections === 1, 5000, 'the silent socket to be gone');
    // The answering one still gets its events.
    const event: BookAvailabilityEvent = { bookId, availableCopies: 9, totalCopies: 2, at: platform.clock.now().toISOString() };
    await platform.bus.publish(BOOK_AVAILABILITY_CHANNEL, event);
    await eventually(() => watch.results.length === 1);
    expect(watch.results[0]).toEqual({ data: { bookAvailabilityChanged: { availableCopies: 9 } } });
  });
});
