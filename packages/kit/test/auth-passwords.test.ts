import { randomBytes, scryptSync } from 'node:crypto';
import { hashPassword, passwordHashingStats, verifyPassword } from '../src/auth/passwords.js';

const PASSWORD = 'correct horse battery staple';

describe('password hashing', () => {
  let stored: string;
  beforeAll(async () => {
    stored = await hashPassword(PASSWORD);
  });

  it('stores scrypt with its parameters, a 16-byte salt and a 32-byte hash', () => {
    expect(stored).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  });

  it('verifies the password it hashed', async () => {
    await expect(verifyPassword(PASSWORD, stored)).resolves.toBe(true);
  });

  it('refuses a wrong password, including near misses', async () => {
    for (const wrong of ['correct horse battery stapler', 'Correct horse battery staple', `${PASSWORD} `, '', 'x']) {
      await expect(verifyPassword(wrong, stored)).resolves.toBe(false);
    }
  });

  it('returns false for a missing account after running the same key derivation as a real check', async () => {
    const before = passwordHashingStats.derivations;
    await expect(verifyPassword(PASSWORD, null)).resolves.toBe(false);
    expect(passwordHashingStats.derivations - before).toBe(1);
    const afterUnknown = passwordHashingStats.derivations;
    await verifyPassword('a wrong password', stored);
    expect(passwordHashingStats.derivations - afterUnknown).toBe(1);
  });

  it('returns false for a malformed stored hash, after a derivation, even where a lenient parser would match', async () => {
    const [, logN, r, p, salt, hash] = stored.split('$') as [string, string, string, string, string, string];
    const malformed = [
      '',
      'not a hash',
      PASSWORD,
      `scrypt$${logN}$${r}$${p}$${salt}`,
      `${stored}$`,
      `${stored} `,
      ` ${stored}`,
      stored.toUpperCase(),
      `SCRYPT$${logN}$${r}$${p}$${salt}$${hash}`,
      `bcrypt$${logN}$${r}$${p}$${salt}$${hash}`,
      `scrypt$015$${r}$${p}$${salt}$${hash}`,
      `scrypt$15.0$${r}$${p}$${salt}$${hash}`,
      `scrypt$${logN}$${r}$${p}$${salt}=$${hash}`,
      `scrypt$${logN}$${r}$${p}$${Buffer.from(salt, 'base64url').toString('base64')}$${hash}`,
      `scrypt$${logN}$${r}$${p}$${salt}$${hash}=`,
      `scrypt$${logN}$${r}$${p}$${salt.slice(0, 10)}$${hash}`,
      `scrypt$${logN}$${r}$${p}$${salt}$${hash.slice(0, 40)}`,
      `scrypt$30$${r}$${p}$${salt}$${hash}`,
      `scrypt$${logN}$64$${p}$${salt}$${hash}`,
      `scrypt$${logN}$${r}$0$${salt}$${hash}`,
    ];
    for (const bad of malformed) {
      const before = passwordHashingStats.derivations;
      await expect(verifyPassword(PASSWORD, bad)).resolves.toBe(false);
      expect(passwordHashingStats.derivations - before).toBe(1);
    }
  });

  it('never puts the password in the hash, in any encoding', async () => {
    const text = Buffer.from(PASSWORD, 'utf8');
    for (const encoded of [PASSWORD, text.toString('base64'), text.toString('base64url'), text.toString('hex')]) {
      expect(stored).not.toContain(encoded);
      expect(stored.toLowerCase()).not.toContain(encoded.toLowerCase());
    }
  });

  it('salts every hash: two hashes of one password differ and both verify', async () => {
    const again = await hashPassword(PASSWORD);
    expect(again).not.toBe(stored);
    expect(again.split('$')[4]).not.toBe(stored.split('$')[4]);
    await expect(verifyPassword(PASSWORD, again)).resolves.toBe(true);
  });

  it('treats the same password typed with composed or decomposed accents as one (NFKC)', async () => {
    const composed = 'caf\u00e9 au lait, s\u00e9rieusement';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    await expect(verifyPassword(decomposed, await hashPassword(composed))).resolves.toBe(true);
  });

  it('verifies a hash stored with other (bounded) parameters, so they can be raised later', async () => {
    const salt = randomBytes(16);
    const hash = scryptSync(PASSWORD, salt, 32, { N: 2 ** 12, r: 8, p: 1 });
    const older = `scrypt$12$8$1$${salt.toString('base64url')}$${hash.toString('base64url')}`;
    await expect(verifyPassword(PASSWORD, older)).resolves.toBe(true);
    await expect(verifyPassword('another password', older)).resolves.toBe(false);
  });
});
