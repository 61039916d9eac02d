import { WebSocket } from 'ws';

/** Turns per keep-alive interval: each turn pings one slice of the sockets. */
const SLICES = 12;

/**
 * WebSocket keep-alive for every socket of a server on one timer (instead of graphql-ws's timer, timeout
 * and pong listener per socket and per ping). Sockets are dealt round-robin into {@link SLICES} slices
 * and one slice is pinged per turn, so the pings of a thousand sockets are spread over the interval, a
 * slice at a time, rather than waking the process for each one. A socket is pinged once per
 * `intervalMs`; one that has not answered its ping by its next turn (`intervalMs` later) is terminated,
 * as graphql-ws's keep-alive does.
 */
export class KeepAlive {
  private readonly slices: Set<WebSocket>[] = Array.from({ length: SLICES }, () => new Set());
  /** Sockets pinged and not yet answered. */
  private readonly awaitingPong = new Set<WebSocket>();
  private nextSlice = 0;
  private turn = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(intervalMs: number) {
    if (intervalMs > 0 && Number.isFinite(intervalMs)) {
      this.timer = setInterval(() => this.ping(), intervalMs / SLICES);
      this.timer.unref();
    }
  }

  /** Keeps `socket` alive (or drops it) until it closes. */
  add(socket: WebSocket): void {
    if (!this.timer) return;
    const slice = this.slices[this.nextSlice]!;
    this.nextSlice = (this.nextSlice + 1) % SLICES;
    slice.add(socket);
    socket.on('pong', () => this.awaitingPong.delete(socket));
    socket.once('close', () => {
      slice.delete(socket);
      this.awaitingPong.delete(socket);
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private ping(): void {
    const slice = this.slices[this.turn]!;
    this.turn = (this.turn + 1) % SLICES;
    for (const socket of slice) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      if (this.awaitingPong.has(socket)) {
        socket.terminate();
        continue;
      }
      this.awaitingPong.add(socket);
      socket.ping();
    }
  }
}
