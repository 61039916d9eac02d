/**
 * Typed access to environment variables. Every variable the platform reads goes through these helpers
 * and is listed, with its default, in the committed `.env.example`.
 */

type Env = Record<string, string | undefined>;

function raw(name: string, env: Env): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** A string variable; `fallback` when unset or blank. Throws when unset and no fallback is given. */
export function getEnvStr(name: string, fallback?: string, env: Env = process.env): string {
  const value = raw(name, env) ?? fallback;
  if (value === undefined) throw new Error(`Environment variable ${name} is required but not set.`);
  return value;
}

/** A string variable, or `undefined` when unset or blank. */
export function getEnvOptional(name: string, env: Env = process.env): string | undefined {
  return raw(name, env);
}

/** An integer variable; throws with the variable's name when it is not a whole number. */
export function getEnvNum(name: string, fallback?: number, env: Env = process.env): number {
  const value = raw(name, env);
  if (value === undefined) {
    if (fallback === undefined) throw new Error(`Environment variable ${name} is required but not set.`);
    return fallback;
  }
  // Decimal digits only: Number() alone would also take "0x10", "1e3" or "12.0".
  const parsed = /^[+-]?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed)) throw new Error(`Environment variable ${name} must be a whole number, got "${value}".`);
  return parsed;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** A boolean variable: 1/true/yes/on or 0/false/no/off (case-insensitive). */
export function getEnvBool(name: string, fallback = false, env: Env = process.env): boolean {
  const value = raw(name, env)?.toLowerCase();
  if (value === undefined) return fallback;
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new Error(`Environment variable ${name} must be true or false, got "${value}".`);
}
