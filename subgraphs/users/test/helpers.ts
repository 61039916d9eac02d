import { Writable } from 'node:stream';
import { ServiceClock, type Logger } from '@shelfwise/kit';
import { pino } from 'pino';

/** A test clock standing still at `start` (plus whatever it is advanced by), so answers are exact. */
export class FixedClock extends ServiceClock {
  constructor(private readonly start: Date) {
    super(true);
  }

  override now(): Date {
    return new Date(this.start.getTime() + this.offset);
  }
}

export interface LogLine {
  level: number;
  msg: string;
  /** The line as written, to look for secrets in it. */
  text: string;
}

export const WARN = 40;

/** A pino logger whose lines land in `lines`. */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString();
      const parsed = JSON.parse(text) as { level: number; msg: string };
      lines.push({ level: parsed.level, msg: parsed.msg, text });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}
