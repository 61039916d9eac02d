import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt (memory-hard: N=2^15, r=8, p=1 needs 32 MiB per derivation). The stored
 * form carries its parameters, `scrypt$<log2 N>$<r>$<p>$<salt b64url>$<hash b64url>`, so they can be
 * raised later without breaking existing accounts.
 */
const LOG_N = 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

/** Bounds on the parameters a stored hash may carry: a corrupted row must not make one login cost gigabytes. */
const LIMITS = { logN: [10, 20], r: [1, 16], p: [1, 4] } as const;

/**
 * How many key derivations have run in this process. Lets tests prove that a check against an unknown
 * account costs the same derivation as a real one (no wall-clock measurement needed).
 */
export const passwordHashingStats = { derivations: 0 };

interface Params {
  logN: number;
  r: number;
  p: number;
}

const DEFAULT_PARAMS: Params = { logN: LOG_N, r: BLOCK_SIZE, p: PARALLELISM };

/**
 * NFKC, as NIST SP 800-63B recommends, so the same password typed on another keyboard or OS (composed
 * vs decomposed accents, full-width digits) still matches.
 */
function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFKC'), 'utf8');
}

function derive(password: Buffer, salt: Buffer, keyLength: number, params: Params): Promise<Buffer> {
  const N = 2 ** params.logN;
  // OpenSSL needs 128·r·(N + p + 2) bytes; twice that leaves room without allowing more than the bounds imply.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 2 * 128 * params.r * (N + params.p + 2) };
  passwordHashingStats.derivations += 1;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Decodes base64url only when it is canonical (no padding, no stray characters, no unused bits set). */
function decodeB64url(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

function inRange(value: number, [min, max]: readonly [number, number]): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

interface StoredHash {
  params: Params;
  salt: Buffer;
  hash: Buffer;
}

function parseStored(stored: string): StoredHash | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, logN, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  if (![logN, r, p].every((n) => /^[1-9]\d{0,2}$/.test(n))) return null;
  const params = { logN: Number(logN), r: Number(r), p: Number(p) };
  if (!inRange(params.logN, LIMITS.logN) || !inRange(params.r, LIMITS.r) || !inRange(params.p, LIMITS.p)) return null;
  const saltBytes = decodeB64url(salt);
  const hashBytes = decodeB64url(hash);
  if (!saltBytes || saltBytes.length < SALT_BYTES || !hashBytes || hashBytes.length !== KEY_BYTES) return null;
  return { params, salt: saltBytes, hash: hashBytes };
}

/**
 * Stands in for the stored hash when there is none (unknown email) or it cannot be read, so such a check
 * runs the same derivation as a real one. No password is checked against it: the result is always false.
 */
const DUMMY: StoredHash = {
  params: DEFAULT_PARAMS,
  salt: Buffer.from('c2hlbGZ3aXNlLWR1bW15LXNhbHQ', 'base64url'),
  hash: Buffer.alloc(KEY_BYTES),
};

/** Hashes a password for storage (a fresh random salt every time). Never log the input or keep it around. */
export async function hashPassword(password: string): Promise<string> {
  if (typeof password !== 'string') throw new TypeError('hashPassword needs the password as a string.');
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(passwordBytes(password), salt, KEY_BYTES, DEFAULT_PARAMS);
  return ['scrypt', LOG_N, BLOCK_SIZE, PARALLELISM, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/**
 * True when `password` matches `stored` (a {@link hashPassword} result). `stored === null` (no such
 * account) and a malformed `stored` both run the key derivation against a dummy hash and return false,
 * so a login with an unknown email costs as much as one with a wrong password.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parsed = typeof stored === 'string' ? parseStored(stored) : null;
  const target = parsed ?? DUMMY;
  const candidate = await derive(
    passwordBytes(typeof password === 'string' ? password : ''),
    target.salt,
    target.hash.length,
    target.params,
  );
  const equal = timingSafeEqual(candidate, target.hash);
  return parsed !== null && typeof password === 'string' && equal;
}
