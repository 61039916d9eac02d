import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { mkdir, readFile, rm, stat, link, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getEnvOptional } from '../env.js';
import type { Logger } from '../logger.js';

/**
 * The Ed25519 key pair access tokens are signed with. `kid` names the public key in token headers. Without
 * `privateKey` the keys can only verify (subgraphs and the router; only the users subgraph issues tokens).
 */
export interface SigningKeys {
  kid: string;
  publicKey: KeyObject;
  privateKey?: KeyObject;
}

export interface LoadKeysOptions {
  /** PEM (PKCS#8) or JWK JSON of an Ed25519 private key; the public key is derived from it. */
  privateKey?: string;
  /** PEM (SPKI) or JWK JSON of an Ed25519 public key: verify-only keys when no private key is given. */
  publicKey?: string;
  /** With neither key: the embedded default keeps one generated pair under `<dataDir>/keys/`. */
  dataDir?: string;
  logger?: Logger;
}

/** The file the embedded default keeps its generated key in, relative to the data folder. */
export const GENERATED_KEY_FILE = path.join('keys', 'jwt-ed25519.json');

const PRIVATE_SOURCE = 'The JWT private key (SHELFWISE_JWT_PRIVATE_KEY)';
const PUBLIC_SOURCE = 'The JWT public key (SHELFWISE_JWT_PUBLIC_KEY)';

/** First 16 hex characters of the SHA-256 of the public key's DER (SPKI): stable for a key, whatever its encoding. */
function kidOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ format: 'der', type: 'spki' }))
    .digest('hex')
    .slice(0, 16);
}

function requireEd25519(key: KeyObject, source: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${source} must be an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}.`);
  return key;
}

/**
 * Reads key text as PEM or JWK JSON. Environment files often carry a PEM on one line with literal `\n`,
 * so those are turned back into newlines. Error messages never include the key material.
 */
function parseKey(text: string, kind: 'private' | 'public', source: string): KeyObject {
  let body = text.trim();
  if (!body.includes('\n') && body.includes('\\n')) body = body.replace(/\\n/g, '\n');
  let key: KeyObject;
  try {
    if (body.startsWith('{')) {
      const jwk = JSON.parse(body) as unknown;
      if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new Error('the JSON is not a JWK object');
      const { kty, crv, d } = jwk as JsonWebKey;
      if (kty !== 'OKP' || crv !== 'Ed25519') throw new Error('the JWK is not an Ed25519 key (kty "OKP", crv "Ed25519")');
      if (kind === 'private' && d === undefined) throw new Error('the JWK has no private part ("d")');
      if (kind === 'public' && d !== undefined) throw new Error('it holds a private key; give only the public part');
      key =
        kind === 'private'
          ? createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' })
          : createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } else if (body.startsWith('-----BEGIN ')) {
      if (kind === 'public' && /PRIVATE KEY-----/.test(body)) throw new Error('it holds a private key; give only the public part');
      key = kind === 'private' ? createPrivateKey(body) : createPublicKey(body);
    } else {
      throw new Error('it is neither a PEM block nor JWK JSON');
    }
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`${source} could not be read: ${reason}.`, { cause: err });
  }
  return requireEd25519(key, source);
}

function fromPrivate(privateKey: KeyObject): SigningKeys {
  const publicKey = createPublicKey(privateKey);
  return { kid: kidOf(publicKey), publicKey, privateKey };
}

function generatePair(): SigningKeys {
  return fromPrivate(generateKeyPairSync('ed25519').privateKey);
}

/** One ephemeral pair per process, so every service started in-process without keys agrees on it. */
let ephemeral: SigningKeys | undefined;

function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === code;
}

async function readKeyFile(file: string, logger?: Logger): Promise<SigningKeys | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
  const mode = (await stat(file)).mode & 0o777;
  if (mode & 0o077) logger?.warn({ file, mode: mode.toString(8) }, 'the JWT signing key file is readable by other users; chmod 600 it');
  return fromPrivate(parseKey(text, 'private', `The JWT key file ${file}`));
}

/**
 * The embedded default's key: read from `<dataDir>/keys/jwt-ed25519.json`, or generated there on the first
 * start. Two processes starting at once each write a complete temporary file and hard-link it to the final
 * name, which fails when the name exists; so exactly one key wins, and both then read that one. (A rename
 * would silently replace a key the first process is already signing with.)
 */
async function loadOrGenerate(dataDir: string, logger?: Logger): Promise<SigningKeys> {
  const file = path.join(dataDir, GENERATED_KEY_FILE);
  const existing = await readKeyFile(file, logger);
  if (existing) return existing;

  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const generated = generatePair();
  const jwk = generated.privateKey!.export({ format: 'jwk' });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, file);
    logger?.info({ file, kid: generated.kid }, 'generated the JWT signing key (kept for later starts)');
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  } finally {
    await rm(temp, { force: true });
  }
  const winner = await readKeyFile(file, logger);
  if (!winner) throw new Error(`The JWT key file ${file} disappeared right after it was written.`);
  return winner;
}

/**
 * The signing keys of this process:
 * - `privateKey` (PEM or JWK): signs and verifies; a `publicKey` given too must be its public half;
 * - only `publicKey`: verify-only;
 * - neither, with `dataDir`: a pair generated once and kept in `<dataDir>/keys/jwt-ed25519.json` (0600);
 * - neither, no `dataDir`: an ephemeral pair for the life of the process (tests).
 */
export async function loadSigningKeys(options: LoadKeysOptions): Promise<SigningKeys> {
  if (options.privateKey !== undefined) {
    const keys = fromPrivate(parseKey(options.privateKey, 'private', PRIVATE_SOURCE));
    if (options.publicKey !== undefined) {
      const given = parseKey(options.publicKey, 'public', PUBLIC_SOURCE);
      if (kidOf(given) !== keys.kid)
        throw new Error(`${PUBLIC_SOURCE} is not the public half of ${PRIVATE_SOURCE}; set only the private key.`);
    }
    return keys;
  }
  if (options.publicKey !== undefined) {
    const publicKey = parseKey(options.publicKey, 'public', PUBLIC_SOURCE);
    return { kid: kidOf(publicKey), publicKey };
  }
  if (options.dataDir !== undefined) return loadOrGenerate(options.dataDir, options.logger);
  if (!ephemeral) {
    ephemeral = generatePair();
    options.logger?.info({ kid: ephemeral.kid }, 'using an ephemeral JWT signing key: tokens do not survive a restart');
  }
  return ephemeral;
}

/** The key settings from the environment (unset or blank variables are left out). */
export function keysFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<LoadKeysOptions, 'privateKey' | 'publicKey'> {
  const privateKey = getEnvOptional('SHELFWISE_JWT_PRIVATE_KEY', env);
  const publicKey = getEnvOptional('SHELFWISE_JWT_PUBLIC_KEY', env);
  return { ...(privateKey !== undefined ? { privateKey } : {}), ...(publicKey !== undefined ? { publicKey } : {}) };
}
