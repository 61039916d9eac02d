import { pino, type Logger } from 'pino';
import { getEnvStr } from './env.js';

export type { Logger };

/**
 * A JSON logger (pino) named after its service. LOG_LEVEL sets the level (default `info`; `silent` in
 * tests unless set). Passwords, tokens and authorization headers are redacted wherever they appear.
 */
export function createLogger(service: string, level?: string): Logger {
  const fallback = process.env.JEST_WORKER_ID ? 'silent' : 'info';
  return pino({
    name: service,
    level: level ?? getEnvStr('LOG_LEVEL', fallback),
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}
