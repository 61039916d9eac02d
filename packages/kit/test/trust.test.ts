import { createPrivateKey, sign as signBytes } from 'node:crypto';
import {
  CALLER_HEADER,
  CallerTrust,
  callerCredential,
  callerTrust,
  configureCallerTrust,
  configureServiceTrust,
  serviceCredential,
  serviceTrust,
  setServiceTrust,
  verifyCredential,
  type Viewer,
} from '@shelfwise/kit';

const librarian: Viewer = { userId: '6f1d2c4e-1111-4aaa-8bbb-123456789abc', role: 'LIBRARIAN' };

function tamper(token: string, edit: (payload: Record<string, unknown>) => void): string {
  const [body, signature] = token.split('.') as [string, string];
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  edit(payload);
  return `${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}.${signature}`;
}

describe('router caller credentials', () => {
  const trust = CallerTrust.generate();
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);

  it('round-trips the viewer and the client address, and an anonymous caller', () => {
    expect(CALLER_HEADER).toBe('x-shelfwise-caller');
    expect(trust.verify(trust.sign({ viewer: librarian, clientAddress: '203.0.113.9' }, now), now)).toEqual({
      viewer: librarian,
      clientAddress: '203.0.113.9',
    });
    expect(trust.verify(trust.sign({ viewer: null, clientAddress: null }, now), now)).toEqual({ viewer: null, clientAddress: null });
    const withSession = { ...librarian, sessionId: 'session-1' };
    expect(trust.verify(trust.sign({ viewer: withSession, clientAddress: null }, now), now)?.viewer).toEqual(withSession);
  });

  it('reuses one credential per caller for a while, then signs a fresh one', () => {
    const first = trust.sign({ viewer: librarian, clientAddress: null }, now);
    expect(trust.sign({ viewer: librarian, clientAddress: null }, now + 10_000)).toBe(first);
    expect(trust.sign({ viewer: librarian, clientAddress: null }, now + 31_000)).not.toBe(first);
    expect(trust.sign({ viewer: null, clientAddress: null }, now)).not.toBe(first);
  });

  it('refuses a credential once it expired (60 s), or dated in the future', () => {
    const token = trust.sign({ viewer: librarian, clientAddress: null }, now + 100_000);
    expect(trust.verify(token, now + 100_000 + 59_000)).not.toBeNull();
    expect(trust.verify(token, now + 100_000 + 60_001)).toBeNull();
    const future = CallerTrust.generate();
    expect(future.verify(future.sign({ viewer: null, clientAddress: null }, now + 60_000), now)).toBeNull();
  });

  it.each([
    ['no credential', () => undefined],
    ['an empty credential', () => ''],
    ['the old plain header', () => `${librarian.userId};LIBRARIAN`],
    ['garbage', () => 'not.a-credential'],
    ['three segments', (t: string) => `${t}.extra`],
    ['a role raised to ADMIN', (t: string) => tamper(t, (p) => (p.r = 'ADMIN'))],
    ['another user', (t: string) => tamper(t, (p) => (p.u = '00000000-0000-4000-8000-000000000000'))],
    ['a longer lifetime', (t: string) => tamper(t, (p) => (p.exp = Number(p.exp) + 3_600_000))],
    ['a truncated signature', (t: string) => t.slice(0, -4)],
  ])('refuses %s', (_what, make) => {
    const token = trust.sign({ viewer: librarian, clientAddress: null }, now + 1);
    expect(trust.verify((make as (t: string) => string | undefined)(token), now + 1)).toBeNull();
  });

  it('refuses a credential signed with another key, and unknown roles even when signed', () => {
    const other = CallerTrust.generate();
    expect(trust.verify(other.sign({ viewer: librarian, clientAddress: null }, now), now)).toBeNull();
    const weird = trust.sign({ viewer: { userId: 'u', role: 'ROOT' as Viewer['role'] }, clientAddress: null }, now + 2);
    expect(trust.verify(weird, now + 2)).toBeNull();
  });

  it('verifies with the public key alone and cannot sign with it (a subgraph)', () => {
    const pem = trust.exportPem();
    const subgraph = CallerTrust.fromKeys({ publicKey: pem.publicKey });
    expect(subgraph.canSign).toBe(false);
    expect(subgraph.verify(trust.sign({ viewer: librarian, clientAddress: null }, now + 3), now + 3)?.viewer).toEqual(librarian);
    expect(() => subgraph.sign({ viewer: null, clientAddress: null })).toThrow(/private key/);
    const router = CallerTrust.fromKeys({ privateKey: pem.privateKey });
    expect(router.canSign).toBe(true);
    expect(trust.verify(router.sign({ viewer: null, clientAddress: null }, now + 4), now + 4)).toEqual({
      viewer: null,
      clientAddress: null,
    });
  });

  it('refuses to start a service on its own without the keys, naming the variable and the fix', () => {
    expect(() => configureCallerTrust('router', {})).toThrow(/SHELFWISE_ROUTER_PRIVATE_KEY.*npm run keys/);
    expect(() => configureCallerTrust('subgraph', {})).toThrow(/SHELFWISE_ROUTER_PUBLIC_KEY.*npm run keys/);
    expect(() => CallerTrust.fromKeys({ publicKey: 'not a key' })).toThrow();
  });

  it('shares one process-wide trust for the embedded platform and tests', () => {
    expect(callerTrust()).toBe(callerTrust());
    expect(callerTrust().verify(callerCredential(librarian))?.viewer).toEqual(librarian);
  });
});

/** A credential with any payload, signed with `trust`'s private key (what a key could sign if its class allowed). */
function forge(trust: CallerTrust, payload: Record<string, unknown>): string {
  const key = createPrivateKey(trust.exportPem().privateKey!);
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${signBytes(null, Buffer.from(body, 'utf8'), key).toString('base64url')}`;
}

describe('service credentials', () => {
  const service = CallerTrust.generate('service');
  const router = CallerTrust.generate('router');
  const now = Date.UTC(2026, 10, 24, 9, 0, 0);
  const base = { a: null, iat: now, exp: now + 60_000 };

  it('verifies with the service trust and carries the calling service, and no user', () => {
    expect(service.purpose).toBe('service');
    expect(service.verify(service.sign({ viewer: null, clientAddress: null, service: 'loans' }, now), now)).toEqual({
      viewer: null,
      clientAddress: null,
      service: 'loans',
    });
  });

  it('the process-wide service key signs what verifyCredential accepts as that service', () => {
    const caller = verifyCredential(serviceCredential('reservations'));
    expect(caller).toMatchObject({ viewer: null, service: 'reservations' });
    expect(serviceTrust().verify(serviceCredential('loans'))?.service).toBe('loans');
    // A router credential is no service credential, and the reverse.
    expect(serviceTrust().verify(callerCredential(librarian))).toBeNull();
    expect(callerTrust().verify(serviceCredential('loans'))).toBeNull();
    expect(verifyCredential(callerCredential(librarian))).toEqual({ viewer: librarian, clientAddress: null });
  });

  it('a service credential must name its service', () => {
    expect(() => service.sign({ viewer: null, clientAddress: null }, now)).toThrow(/names its service/);
    expect(service.verify(forge(service, { ...base, u: null, r: null }), now)).toBeNull();
    expect(service.verify(forge(service, { ...base, u: null, r: null, v: '' }), now)).toBeNull();
    expect(service.verify(forge(service, { ...base, u: null, r: null, v: 'loans' }), now)?.service).toBe('loans');
  });

  it('the router key refuses to sign a service claim, and refuses one signed with it', () => {
    expect(() => router.sign({ viewer: null, clientAddress: null, service: 'loans' }, now)).toThrow(/does not vouch for services/);
    expect(router.verify(forge(router, { ...base, u: null, r: null, v: 'loans' }), now)).toBeNull();
    // The same payload without the claim is an ordinary anonymous router credential.
    expect(router.verify(forge(router, { ...base, u: null, r: null }), now)).toEqual({ viewer: null, clientAddress: null });
  });

  it('the service key does not vouch for a user', () => {
    expect(() => service.sign({ viewer: librarian, clientAddress: null, service: 'loans' }, now)).toThrow(/never for a user/);
    expect(service.verify(forge(service, { ...base, u: librarian.userId, r: 'ADMIN', v: 'loans' }), now)).toBeNull();
    expect(service.verify(forge(service, { ...base, u: null, r: 'ADMIN', v: 'loans' }), now)).toBeNull();
  });

  it('a credential from another service key, an expired one or an altered one is refused', () => {
    const other = CallerTrust.generate('service');
    const token = other.sign({ viewer: null, clientAddress: null, service: 'loans' }, now);
    expect(service.verify(token, now)).toBeNull();
    const mine = service.sign({ viewer: null, clientAddress: null, service: 'loans' }, now + 1);
    expect(service.verify(mine, now + 1 + 60_001)).toBeNull();
    expect(
      service.verify(
        tamper(mine, (p) => (p.v = 'payments')),
        now + 1,
      ),
    ).toBeNull();
  });

  it('configures the service key from the environment, refusing a router-purpose trust and missing keys', () => {
    expect(() => configureServiceTrust({})).toThrow(/SHELFWISE_SERVICE_PRIVATE_KEY.*npm run keys/);
    expect(() => setServiceTrust(CallerTrust.generate('router'))).toThrow(/service-purpose/);
    const previous = serviceTrust();
    try {
      const pem = CallerTrust.generate('service').exportPem();
      const configured = configureServiceTrust({ SHELFWISE_SERVICE_PRIVATE_KEY: pem.privateKey! });
      expect(serviceTrust()).toBe(configured);
      expect(configured.verify(serviceCredential('loans'))?.service).toBe('loans');
      const answerOnly = CallerTrust.fromKeys({ publicKey: pem.publicKey }, 'service');
      expect(answerOnly.canSign).toBe(false);
      expect(answerOnly.verify(serviceCredential('loans'))?.service).toBe('loans');
    } finally {
      setServiceTrust(previous);
    }
  });
});
