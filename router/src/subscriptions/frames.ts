import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';

/**
 * The WebSocket close code for a subscriber that reads too slowly (1013, "try again later"): its socket
 * is closed rather than buffered on without bound; the client reconnects and refetches.
 */
export const SLOW_CONSUMER_CLOSE_CODE = 1013;

/** Where one subscription's frames go: its socket, with the subscription id already in the envelope. */
export interface SubscriptionSink {
  /**
   * Writes one `next` message whose payload is `payload` (a GraphQL result as UTF-8 JSON, shared by every
   * member of a group: not to be modified). False when nothing was written (the socket is closing, or was
   * just closed for being too far behind).
   */
  send(payload: Buffer): boolean;
}

const FIN_TEXT = 0x81;
const SUFFIX = 0x7d; // '}' closes the envelope around the payload.

/** The bytes of a `next` message before its payload, for subscription `id`: `{"id":…,"type":"next","payload":`. */
export function nextMessagePrefix(id: string): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
}

/**
 * One complete WebSocket text frame (FIN, unfragmented, unmasked as a server's frames are, no
 * compression) holding `prefix` + `payload` + `}`, in a single buffer so the socket gets one write.
 * Small frames come from Node's buffer pool.
 */
export function nextMessageFrame(prefix: Buffer, payload: Buffer): Buffer {
  const length = prefix.length + payload.length + 1;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = FIN_TEXT;
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  let offset = header + prefix.copy(frame, header);
  offset += payload.copy(frame, offset);
  frame[offset] = SUFFIX;
  return frame;
}

export interface FrameSinkOptions {
  /** The subscriber's `ws` socket: its state, its buffered bytes, and its close handshake. */
  socket: WebSocket;
  /**
   * The TCP stream `socket` was upgraded on (what the server handed `handleUpgrade`). Frames are written
   * to it directly: one write per frame, instead of `ws`'s header-plus-data pair per send. This keeps
   * the socket's byte order only because the server runs `ws` without permessage-deflate, so every frame
   * `ws` writes itself (graphql-ws's messages, pings, close) also goes straight to this stream, in call
   * order.
   */
  stream: Duplex;
  /** The subscription id the client chose (each message's `id`). */
  id: string;
  /** A socket with more than this many bytes waiting to be sent is closed (1013) instead of buffering on. */
  maxBufferedBytes: number;
}

/**
 * The sink of one subscription: each payload becomes this subscription's `next` frame by concatenation
 * (no JSON work per socket). Backpressure rule: before each frame, a socket holding more than
 * `maxBufferedBytes` of unsent data (what the kernel has not taken: the peer is not reading) is closed
 * with {@link SLOW_CONSUMER_CLOSE_CODE} and the frame is dropped, so a stalled reader costs at most that
 * much memory; its close frame queues behind the data, and `ws` destroys the socket if the close
 * handshake does not finish in 30 s.
 */
export function frameSink(options: FrameSinkOptions): SubscriptionSink {
  const { socket, stream, maxBufferedBytes } = options;
  const prefix = nextMessagePrefix(options.id);
  return {
    send(payload) {
      if (socket.readyState !== WebSocket.OPEN || !stream.writable) return false;
      if (socket.bufferedAmount > maxBufferedBytes) {
        socket.close(SLOW_CONSUMER_CLOSE_CODE, 'Too far behind; reconnect and refetch.');
        return false;
      }
      stream.write(nextMessageFrame(prefix, payload));
      return true;
    },
  };
}
