import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GENERATED_KEY_FILE, keysFromEnv, loadSigningKeys } from '../src/auth/keys.js';
import { issueAccessToken, verifyAccessToken } from '../src/auth/tokens.js';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const CLAIMS = { userId: 'u-1', role: 'ADMIN' as const, sessionId: 's-1' };

function expectedKid(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ format: 'der', type: 'spki' }))
    .digest('hex')
    .slice(0, 16);
}

function newPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    privateJwk: JSON.stringify(privateKey.export({ format: 'jwk' })),
    publicJwk: JSON.stringify(publicKey.export({ format: 'jwk' })),
    kid: expectedKid(publicKey),
  };
}

const dirs: string[] = [];
async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'shelfwise-keys-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('signing keys from configuration', () => {
  it('imports a PEM private key: signs, and the public PEM alone verifies', async () => {
    const pair = newPair();
    const signing = await loadSigningKeys({ privateKey: pair.privatePem });
    expect(signing.kid).toBe(pair.kid);
    expect(signing.privateKey?.asymmetricKeyType).toBe('ed25519');
    const verifying = await loadSigningKeys({ publicKey: pair.publicPem });
    expect(verifying.kid).toBe(pair.kid);
    expect(verifying.privateKey).toBeUndefined();
    const { token } = await issueAccessToken(signing, CLAIMS, NOW);
    await expect(verifyAccessToken(verifying, token, NOW)).resolves.toEqual(CLAIMS);
  });

  it('imports JWK JSON, with the same kid as the PEM of the same key', async () => {
    const pair = newPair();
    const signing = await loadSigningKeys({ privateKey: pair.privateJwk });
    const verifying = await loadSigningKeys({ publicKey: pair.publicJwk });
    expect(signing.kid).toBe(pair.kid);
    expect(verifying.kid).toBe(pair.kid);
    expect((await loadSigningKeys({ privateKey: pair.privatePem })).kid).toBe(signing.kid);
    const { token } = await issueAccessToken(signing, CLAIMS, NOW);
    await expect(verifyAccessToken(verifying, token, NOW)).resolves.toEqual(CLAIMS);
  });

  it('reads a PEM written on one line with literal \\n, as environment files carry it', async () => {
    const pair = newPair();
    const oneLine = pair.privatePem.trim().replace(/\n/g, '\\n');
    expect(oneLine).not.toContain('\n');
    expect((await loadSigningKeys({ privateKey: oneLine })).kid).toBe(pair.kid);
  });

  it('accepts a public key that matches the private key and refuses one that does not', async () => {
    const pair = newPair();
    await expect(loadSigningKeys({ privateKey: pair.privatePem, publicKey: pair.publicJwk })).resolves.toMatchObject({ kid: pair.kid });
    await expect(loadSigningKeys({ privateKey: pair.privatePem, publicKey: newPair().publicPem })).rejects.toThrow(/not the public half/);
  });

  it('refuses keys that are not Ed25519, not keys at all, or private keys in the public slot — without echoing them', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecPem = ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const pair = newPair();
    const cases: [Parameters<typeof loadSigningKeys>[0], RegExp][] = [
      [{ privateKey: ecPem }, /must be an Ed25519 key, got ec/],
      [{ publicKey: ec.publicKey.export({ format: 'pem', type: 'spki' }).toString() }, /must be an Ed25519 key/],
      [{ privateKey: JSON.stringify(ec.privateKey.export({ format: 'jwk' })) }, /not an Ed25519 key/],
      [{ privateKey: 'hunter2-is-not-a-key' }, /neither a PEM block nor JWK JSON/],
      [{ privateKey: '{"kty":"OKP"' }, /could not be read/],
      [{ privateKey: pair.publicJwk }, /no private part/],
      [{ privateKey: pair.publicPem }, /could not be read/],
      [{ publicKey: pair.privatePem }, /holds a private key/],
      [{ publicKey: pair.privateJwk }, /holds a private key/],
      [{ privateKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }, /SHELFWISE_JWT_PRIVATE_KEY\) could not be read/],
    ];
    for (const [options, message] of cases) {
      const error = await loadSigningKeys(options).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(error?.message).toMatch(message);
      const given = options.privateKey ?? options.publicKey ?? '';
      expect(error?.message).not.toContain(given.length > 40 ? given.slice(40, 80) : given);
    }
  });

  it('reads both variables from the environment and leaves out unset or blank ones', () => {
    const pair = newPair();
    expect(keysFromEnv({ SHELFWISE_JWT_PRIVATE_KEY: pair.privatePem, SHELFWISE_JWT_PUBLIC_KEY: pair.publicPem })).toEqual({
      privateKey: pair.privatePem.trim(),
      publicKey: pair.publicPem.trim(),
    });
    expect(keysFromEnv({ SHELFWISE_JWT_PUBLIC_KEY: pair.publicJwk, SHELFWISE_JWT_PRIVATE_KEY: '  ' })).toEqual({
      publicKey: pair.publicJwk,
    });
    expect(keysFromEnv({})).toEqual({});
  });

  it('verify-only keys cannot issue tokens', async () => {
    const verifying = await loadSigningKeys({ publicKey: newPair().publicPem });
    await expect(issueAccessToken(verifying, CLAIMS, NOW)).rejects.toThrow(/can only verify/);
  });

  it('without any configuration uses one ephemeral pair for the whole process', async () => {
    const a = await loadSigningKeys({});
    const b = await loadSigningKeys({});
    expect(a.kid).toBe(b.kid);
    expect(a.kid).toBe(expectedKid(a.publicKey));
    const { token } = await issueAccessToken(a, CLAIMS, NOW);
    await expect(verifyAccessToken(b, token, NOW)).resolves.toEqual(CLAIMS);
  });
});

describe('the embedded default key under <dataDir>/keys/', () => {
  it('is generated once with mode 0600 and reused on later starts', async () => {
    const dataDir = await tempDataDir();
    const first = await loadSigningKeys({ dataDir });
    const file = path.join(dataDir, GENERATED_KEY_FILE);
    expect(file).toBe(path.join(dataDir, 'keys', 'jwt-ed25519.json'));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    const second = await loadSigningKeys({ dataDir });
    expect(second.kid).toBe(first.kid);
    const { token } = await issueAccessToken(first, CLAIMS, NOW);
    await expect(verifyAccessToken(second, token, NOW)).resolves.toEqual(CLAIMS);
    // not the process-wide ephemeral pair
    expect(first.kid).not.toBe((await loadSigningKeys({})).kid);
  });

  it('is a private JWK an operator can move into SHELFWISE_JWT_PRIVATE_KEY', async () => {
    const dataDir = await tempDataDir();
    const generated = await loadSigningKeys({ dataDir });
    const text = await readFile(path.join(dataDir, GENERATED_KEY_FILE), 'utf8');
    expect(JSON.parse(text)).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect((await loadSigningKeys({ privateKey: text })).kid).toBe(generated.kid);
  });

  it('is the same key for loads racing on an empty folder, and leaves no temporary files', async () => {
    const dataDir = await tempDataDir();
    const loaded = await Promise.all(Array.from({ length: 8 }, () => loadSigningKeys({ dataDir })));
    const kids = new Set(loaded.map((k) => k.kid));
    expect(kids.size).toBe(1);
    expect((await loadSigningKeys({ dataDir })).kid).toBe(loaded[0]!.kid);
    expect(await readdir(path.join(dataDir, 'keys'))).toEqual(['jwt-ed25519.json']);
  });

  it('gives way to configured keys', async () => {
    const dataDir = await tempDataDir();
    const pair = newPair();
    expect((await loadSigningKeys({ dataDir, privateKey: pair.privatePem })).kid).toBe(pair.kid);
    expect((await loadSigningKeys({ dataDir, publicKey: pair.publicPem })).kid).toBe(pair.kid);
    await expect(readdir(dataDir)).resolves.toEqual([]);
  });

  it('refuses a damaged key file instead of replacing it', async () => {
    const dataDir = await tempDataDir();
    await mkdir(path.join(dataDir, 'keys'));
    const file = path.join(dataDir, GENERATED_KEY_FILE);
    await writeFile(file, '{"kty":"OKP","crv":"Ed25519"', { mode: 0o600 });
    await expect(loadSigningKeys({ dataDir })).rejects.toThrow(`The JWT key file ${file} could not be read`);
    expect(await readFile(file, 'utf8')).toBe('{"kty":"OKP","crv":"Ed25519"');
  });
});
