import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { JwtError, signJwt, verifyJwt, type JwtPayload } from '../src/auth/jwt.js';
import { loadSigningKeys, type SigningKeys } from '../src/auth/keys.js';
import {
  ACCESS_TOKEN_INVALID_MESSAGE,
  ACCESS_TOKEN_TTL_SECONDS,
  issueAccessToken,
  verifyAccessToken,
  type AccessClaims,
} from '../src/auth/tokens.js';

const NOW = new Date('2030-03-04T05:06:07.890Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const CLAIMS: AccessClaims = {
  userId: '5f0c3a52-6a3e-4c1e-9a55-0f4b1c2d3e4f',
  role: 'PATRON',
  sessionId: '0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6',
};

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const secondsLater = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

/** The payload a genuine token carries, for forging variants of it. */
function genuinePayload(overrides: JwtPayload = {}): JwtPayload {
  return {
    iss: 'shelfwise',
    aud: 'shelfwise-api',
    sub: CLAIMS.userId,
    role: CLAIMS.role,
    sid: CLAIMS.sessionId,
    iat: NOW_S,
    exp: NOW_S + ACCESS_TOKEN_TTL_SECONDS,
    ...overrides,
  };
}

function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.') as [string, string, string];
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString()) };
}

let keys: SigningKeys;
let otherKeys: SigningKeys;

beforeAll(async () => {
  keys = await loadSigningKeys({});
  const other = generateKeyPairSync('ed25519');
  otherKeys = await loadSigningKeys({ privateKey: other.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
});

/** Every refusal must look exactly the same from outside. */
async function expectRefused(token: string, now: Date = NOW): Promise<void> {
  const error = await verifyAccessToken(keys, token, now).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(GraphQLError);
  expect((error as GraphQLError).message).toBe(ACCESS_TOKEN_INVALID_MESSAGE);
  expect((error as GraphQLError).extensions).toEqual({ code: 'UNAUTHENTICATED' });
}

describe('access tokens', () => {
  it('round-trips the claims, expires 15 minutes after issue and carries the EdDSA header with the kid', async () => {
    const { token, expiresAt } = await issueAccessToken(keys, CLAIMS, NOW);
    expect(expiresAt).toEqual(new Date((NOW_S + 900) * 1000));
    await expect(verifyAccessToken(keys, token, NOW)).resolves.toEqual(CLAIMS);
    const { header, payload } = decode(token);
    expect(header).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: keys.kid });
    expect(payload).toEqual(genuinePayload());
  });

  it('is verified with the public key alone', async () => {
    const { token } = await issueAccessToken(keys, { ...CLAIMS, role: 'LIBRARIAN' }, NOW);
    await expect(verifyAccessToken({ publicKey: keys.publicKey }, token, NOW)).resolves.toEqual({ ...CLAIMS, role: 'LIBRARIAN' });
  });

  it('is valid until one second before exp, and refused from exp on', async () => {
    const { token } = await issueAccessToken(keys, CLAIMS, NOW);
    await expect(verifyAccessToken(keys, token, new Date((NOW_S + 899) * 1000 + 999))).resolves.toEqual(CLAIMS);
    await expectRefused(token, new Date((NOW_S + 900) * 1000));
    await expectRefused(token, secondsLater(3600));
  });

  it('accepts an iat a few seconds ahead (issuer clock skew) and refuses one far in the future', async () => {
    const { token } = await issueAccessToken(keys, CLAIMS, NOW);
    await expect(verifyAccessToken(keys, token, secondsLater(-10))).resolves.toEqual(CLAIMS);
    await expectRefused(token, secondsLater(-3600));
  });

  it('refuses a token that is not valid yet (nbf)', async () => {
    const early = signJwt(keys.privateKey!, keys.kid, genuinePayload({ nbf: NOW_S + 600 }));
    await expectRefused(early);
    await expect(verifyAccessToken(keys, early, secondsLater(600))).resolves.toEqual(CLAIMS);
  });

  it('refuses "alg": "none", with or without a signature', async () => {
    const payload = b64(genuinePayload());
    const { token } = await issueAccessToken(keys, CLAIMS, NOW);
    const realSignature = token.split('.')[2];
    for (const header of [{ alg: 'none', typ: 'JWT' }, { alg: 'none', typ: 'JWT', kid: keys.kid }, { alg: 'None' }, { alg: 'NONE' }]) {
      await expectRefused(`${b64(header)}.${payload}.`);
      await expectRefused(`${b64(header)}.${payload}`);
      await expectRefused(`${b64(header)}.${payload}.${realSignature}`);
    }
  });

  it('refuses HS256 signed with the public key as the HMAC secret (algorithm confusion)', async () => {
    const secrets = [keys.publicKey.export({ format: 'pem', type: 'spki' }), keys.publicKey.export({ format: 'der', type: 'spki' })];
    for (const secret of secrets) {
      for (const alg of ['HS256', 'HS512']) {
        const input = `${b64({ alg, typ: 'JWT', kid: keys.kid })}.${b64(genuinePayload())}`;
        const mac = createHmac(alg === 'HS256' ? 'sha256' : 'sha512', secret)
          .update(input)
          .digest('base64url');
        await expectRefused(`${input}.${mac}`);
      }
    }
  });

  it('refuses a token signed with another key, even with our kid in the header', async () => {
    const { token } = await issueAccessToken(otherKeys, CLAIMS, NOW);
    await expectRefused(token);
    await expectRefused(signJwt(otherKeys.privateKey!, keys.kid, genuinePayload()));
    // …and the other key's owner accepts it, so the refusal above is about the key.
    await expect(verifyAccessToken(otherKeys, token, NOW)).resolves.toEqual(CLAIMS);
  });

  it('refuses an altered payload (role raised, user or session swapped, expiry pushed)', async () => {
    const { token } = await issueAccessToken(keys, CLAIMS, NOW);
    const [header, , signature] = token.split('.') as [string, string, string];
    for (const change of [{ role: 'ADMIN' }, { sub: 'someone-else' }, { sid: 'another-session' }, { exp: NOW_S + 10 * 365 * 86400 }]) {
      await expectRefused(`${header}.${b64(genuinePayload(change))}.${signature}`);
    }
  });

  it('refuses an altered header (kid, typ, an extra parameter, a jwk to trust)', async () => {
    const { token } = await issueAccessToken(keys, CLAIMS, NOW);
    const [, payload, signature] = token.split('.') as [string, string, string];
    const headers = [
      { alg: 'EdDSA', typ: 'JWT', kid: 'another-kid' },
      { alg: 'EdDSA', typ: 'JOSE', kid: keys.kid },
      { alg: 'EdDSA', typ: 'JWT', kid: keys.kid, crit: ['exp'] },
      { alg: 'EdDSA', typ: 'JWT', kid: keys.kid, jwk: keys.publicKey.export({ format: 'jwk' }) },
      { alg: 'ES256', typ: 'JWT', kid: keys.kid },
    ];
    for (const header of headers) await expectRefused(`${b64(header)}.${payload}.${signature}`);
  });

  it('refuses a header with an unknown parameter even when it is properly signed', async () => {
    const headerPart = b64({ alg: 'EdDSA', typ: 'JWT', kid: keys.kid, jku: 'https://attacker.example/keys' });
    const input = `${headerPart}.${b64(genuinePayload())}`;
    await expectRefused(`${input}.${sign(null, Buffer.from(input), keys.privateKey!).toString('base64url')}`);
  });

  it('refuses a signature whose base64url is not canonical (unused bits set)', async () => {
    const { token } = await issueAccessToken(keys, CLAIMS, NOW);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    // 64 bytes are 86 characters; the last one carries 4 unused bits, which Node's decoder ignores.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const altered = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(signature.at(-1)!) | 1]}`;
    expect(altered).not.toBe(signature);
    expect(Buffer.from(altered, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    await expectRefused(`${header}.${payload}.${altered}`);
    await expectRefused(`${header}.${payload}.${signature}==`);
    await expectRefused(`${header}=.${payload}.${signature}`);
  });

  it('refuses a token from another issuer or for another audience, though signed with our key', async () => {
    for (const change of [
      { iss: 'someone-else' },
      { iss: undefined },
      { aud: 'another-api' },
      { aud: undefined },
      { aud: ['another-api'] },
    ]) {
      await expectRefused(signJwt(keys.privateKey!, keys.kid, genuinePayload(change)));
    }
    // An audience list that names us is fine.
    const listed = signJwt(keys.privateKey!, keys.kid, genuinePayload({ aud: ['another-api', 'shelfwise-api'] }));
    await expect(verifyAccessToken(keys, listed, NOW)).resolves.toEqual(CLAIMS);
  });

  it('refuses a properly signed token with missing or invalid claims', async () => {
    const variants: JwtPayload[] = [
      { sub: undefined },
      { sub: '' },
      { sub: 42 },
      { sid: undefined },
      { role: 'SUPERUSER' },
      { role: undefined },
      { exp: undefined },
      { exp: `${NOW_S + 900}` },
      { exp: NOW_S + 900.5 },
      { iat: undefined },
      { nbf: 'soon' },
    ];
    for (const change of variants) await expectRefused(signJwt(keys.privateKey!, keys.kid, genuinePayload(change)));
  });

  it('refuses garbage and the empty string', async () => {
    const { token } = await issueAccessToken(keys, CLAIMS, NOW);
    const garbage = [
      '',
      ' ',
      'garbage',
      'a.b.c',
      '...',
      '..',
      `${token}.`,
      `.${token}`,
      `Bearer ${token}`,
      ` ${token}`,
      token.split('.').slice(0, 2).join('.'),
      `${b64('a string')}.${b64(genuinePayload())}.${token.split('.')[2]}`,
      `${b64({ alg: 'EdDSA', typ: 'JWT', kid: keys.kid })}.bm90IGpzb24.${token.split('.')[2]}`,
      `${token}${'A'.repeat(5000)}`,
    ];
    for (const bad of garbage) await expectRefused(bad);
    await expectRefused(undefined as unknown as string);
    await expectRefused(null as unknown as string);
  });

  it('refuses to issue a token with a bad claim', async () => {
    await expect(issueAccessToken(keys, { ...CLAIMS, role: 'ROOT' as 'ADMIN' }, NOW)).rejects.toThrow(/valid role/);
    await expect(issueAccessToken(keys, { ...CLAIMS, userId: '' }, NOW)).rejects.toThrow(/userId/);
    await expect(issueAccessToken(keys, { ...CLAIMS, sessionId: '' }, NOW)).rejects.toThrow(/sessionId/);
  });
});

describe('the JWS layer', () => {
  it('checks the signature before it reads a single claim', () => {
    // Signed with another key AND carrying a payload that is not even JSON: the signature must be what fails.
    const input = `${b64({ alg: 'EdDSA', typ: 'JWT', kid: keys.kid })}.${Buffer.from('{not json').toString('base64url')}`;
    const forged = `${input}.${sign(null, Buffer.from(input), otherKeys.privateKey!).toString('base64url')}`;
    expect(() => verifyJwt(keys.publicKey, forged, { now: NOW, issuer: 'shelfwise', audience: 'shelfwise-api' })).toThrow(
      new JwtError('the signature does not match'),
    );
    // Expired and for another audience too: still the signature is the reason given.
    const expired = signJwt(otherKeys.privateKey!, keys.kid, genuinePayload({ exp: NOW_S - 1, aud: 'x' }));
    expect(() => verifyJwt(keys.publicKey, expired, { now: NOW, issuer: 'shelfwise', audience: 'shelfwise-api' })).toThrow(
      'the signature does not match',
    );
  });

  it('refuses the algorithm before it uses the key', () => {
    const token = `${b64({ alg: 'HS256', typ: 'JWT', kid: keys.kid })}.${b64(genuinePayload())}.c2ln`;
    expect(() => verifyJwt(keys.publicKey, token, { now: NOW, issuer: 'shelfwise', audience: 'shelfwise-api' })).toThrow(
      /algorithm "HS256"/,
    );
  });

  it('only signs and verifies with Ed25519 keys of the right kind', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => signJwt(ec.privateKey, 'k', genuinePayload())).toThrow(/Ed25519 private key/);
    expect(() => signJwt(keys.publicKey, 'k', genuinePayload())).toThrow(/Ed25519 private key/);
    const token = signJwt(keys.privateKey!, keys.kid, genuinePayload());
    expect(() => verifyJwt(ec.publicKey, token, { now: NOW, issuer: 'shelfwise', audience: 'shelfwise-api' })).toThrow(
      /Ed25519 public key/,
    );
  });

  it('checks the kid when asked to', () => {
    const token = signJwt(keys.privateKey!, keys.kid, genuinePayload());
    const options = { now: NOW, issuer: 'shelfwise', audience: 'shelfwise-api' };
    expect(verifyJwt(keys.publicKey, token, { ...options, kid: keys.kid }).sub).toBe(CLAIMS.userId);
    expect(() => verifyJwt(keys.publicKey, token, { ...options, kid: 'other' })).toThrow(/another key/);
  });
});
