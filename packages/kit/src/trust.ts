import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { getEnvOptional } from './env.js';
import { isRole, type Viewer } from './viewer.js';

/**
 * Header on which the router passes every request's caller on to subgraphs: a credential signed with the
 * router's Ed25519 key, carrying the viewer (or none, for an anonymous caller) and the client address.
 * Subgraphs refuse any request without a valid one (401), `_entities` and `_service` included: they do
 * not trust the network.
 */
export const CALLER_HEADER = 'x-shelfwise-caller';

/** Who a subgraph request is for, as the router (or, for an internal call, a service) vouches. */
export interface Caller {
  viewer: Viewer | null;
  /** The client's address as the router saw it (login throttling); null when unknown. */
  clientAddress: string | null;
  /**
   * Set on a service-to-service call (e.g. `loans` asking `books` for a copy): the calling service's name,
   * vouched for by the service key. Only such callers pass `allow.service` rules, which guard the
   * `@inaccessible` internal operations that never appear in the public graph.
   */
  service?: string | null;
}

/** What a key vouches for: end users through the router, or services calling each other. */
export type TrustPurpose = 'router' | 'service';

/** How long a credential is valid; the router reuses one per caller for half of it. */
const LIFETIME_MS = 60_000;
const REUSE_MS = LIFETIME_MS / 2;
const CACHE_LIMIT = 5_000;

interface Payload {
  u: string | null;
  r: string | null;
  s?: string | null;
  a: string | null;
  /** The calling service (service credentials only). */
  v?: string;
  iat: number;
  exp: number;
}

function parseKey(text: string, kind: 'private' | 'public', purpose: TrustPurpose): KeyObject {
  const trimmed = text.trim();
  const input = trimmed.startsWith('{') ? { key: JSON.parse(trimmed) as Record<string, unknown>, format: 'jwk' as const } : trimmed;
  const key =
    kind === 'private'
      ? createPrivateKey(input as Parameters<typeof createPrivateKey>[0])
      : createPublicKey(input as Parameters<typeof createPublicKey>[0]);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`The ${purpose} ${kind} key must be an Ed25519 key.`);
  return key;
}

/**
 * Signs (router) and verifies (subgraphs) caller credentials: `<base64url payload>.<base64url signature>`,
 * Ed25519 over the payload text. Verification results and signed credentials are cached briefly, so the
 * cost is one signature per caller per 30 s at the router and one check per credential at each subgraph.
 */
export class CallerTrust {
  private readonly signed = new Map<string, { token: string; issuedAt: number; reuseUntil: number }>();
  private readonly verified = new Map<string, { caller: Caller; exp: number }>();

  /**
   * `purpose` keeps the two kinds of credential apart: a router key never vouches for a service (a
   * credential it signed with a service claim is refused), and a service key never vouches for a user.
   */
  constructor(
    private readonly publicKey: KeyObject,
    private readonly privateKey?: KeyObject,
    readonly purpose: TrustPurpose = 'router',
  ) {}

  /** A fresh Ed25519 pair (the embedded default and tests: everything runs in one process). */
  static generate(purpose: TrustPurpose = 'router'): CallerTrust {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    return new CallerTrust(publicKey, privateKey, purpose);
  }

  /** From PEM or JWK text: the signer needs the private key, a verifier only the public one. */
  static fromKeys(keys: { privateKey?: string; publicKey?: string }, purpose: TrustPurpose = 'router'): CallerTrust {
    const privateKey = keys.privateKey ? parseKey(keys.privateKey, 'private', purpose) : undefined;
    const publicKey = keys.publicKey ? parseKey(keys.publicKey, 'public', purpose) : privateKey ? createPublicKey(privateKey) : undefined;
    if (!publicKey) throw new Error(`A ${purpose} public or private key is required.`);
    return new CallerTrust(publicKey, privateKey, purpose);
  }

  get canSign(): boolean {
    return this.privateKey !== undefined;
  }

  /** The key pair as PEM, for `npm run keys` and deployment set-up. */
  exportPem(): { privateKey?: string; publicKey: string } {
    return {
      publicKey: this.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      ...(this.privateKey ? { privateKey: this.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } : {}),
    };
  }

  sign(caller: Caller, nowMs = Date.now()): string {
    if (!this.privateKey) throw new Error(`This process holds no ${this.purpose} private key, so it cannot vouch for callers.`);
    const service = caller.service ?? null;
    if ((this.purpose === 'service') !== (service !== null))
      throw new Error(
        this.purpose === 'service' ? 'A service credential names its service.' : 'The router key does not vouch for services.',
      );
    if (this.purpose === 'service' && caller.viewer) throw new Error('The service key vouches for services, never for a user.');
    const cacheKey = `${caller.viewer?.userId ?? ''};${caller.viewer?.role ?? ''};${caller.viewer?.sessionId ?? ''};${caller.clientAddress ?? ''};${service ?? ''}`;
    const cached = this.signed.get(cacheKey);
    if (cached && cached.issuedAt <= nowMs && cached.reuseUntil > nowMs) return cached.token;
    const payload: Payload = {
      u: caller.viewer?.userId ?? null,
      r: caller.viewer?.role ?? null,
      s: caller.viewer?.sessionId ?? null,
      a: caller.clientAddress,
      ...(service !== null ? { v: service } : {}),
      iat: nowMs,
      exp: nowMs + LIFETIME_MS,
    };
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    const token = `${body}.${sign(null, Buffer.from(body, 'utf8'), this.privateKey).toString('base64url')}`;
    if (this.signed.size >= CACHE_LIMIT) this.signed.clear();
    this.signed.set(cacheKey, { token, issuedAt: nowMs, reuseUntil: nowMs + REUSE_MS });
    return token;
  }

  /** The caller a credential vouches for, or null when it is missing, malformed, forged or expired. */
  verify(token: string | undefined, nowMs = Date.now()): Caller | null {
    if (!token) return null;
    const cached = this.verified.get(token);
    if (cached) return cached.exp > nowMs ? cached.caller : null;
    const parts = token.split('.');
    if (parts.length !== 2) return null;
    const [body, signature] = parts as [string, string];
    let valid: boolean;
    try {
      valid = verify(null, Buffer.from(body, 'utf8'), this.publicKey, Buffer.from(signature, 'base64url'));
    } catch {
      return null;
    }
    if (!valid) return null;
    let payload: Payload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
    } catch {
      return null;
    }
    if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number' || payload.exp <= nowMs || payload.iat > nowMs + 5_000)
      return null;
    // A router credential never names a service; a service credential always does.
    const service = payload.v;
    if (this.purpose === 'router' ? service !== undefined : typeof service !== 'string' || service === '') return null;
    // …and a service credential never carries a user: the router alone vouches for users.
    if (this.purpose === 'service' && (payload.u !== null || payload.r !== null)) return null;
    let viewer: Viewer | null = null;
    if (payload.u !== null || payload.r !== null) {
      if (typeof payload.u !== 'string' || payload.u === '' || typeof payload.r !== 'string' || !isRole(payload.r)) return null;
      viewer = {
        userId: payload.u,
        role: payload.r,
        ...(typeof payload.s === 'string' && payload.s !== '' ? { sessionId: payload.s } : {}),
      };
    }
    const caller: Caller = {
      viewer,
      clientAddress: typeof payload.a === 'string' ? payload.a : null,
      ...(service !== undefined ? { service } : {}),
    };
    if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
    this.verified.set(token, { caller, exp: payload.exp });
    return caller;
  }
}

let processTrust: CallerTrust | undefined;

/**
 * The process's trust: configured by {@link configureCallerTrust} (a service started on its own, from
 * SHELFWISE_ROUTER_PRIVATE_KEY / SHELFWISE_ROUTER_PUBLIC_KEY), otherwise a key pair generated for this
 * process — right for the embedded default and tests, where the router and every subgraph share it.
 */
export function callerTrust(): CallerTrust {
  processTrust ??= CallerTrust.generate();
  return processTrust;
}

export function setCallerTrust(trust: CallerTrust): void {
  processTrust = trust;
}

/**
 * For a service running in its own process: the router needs SHELFWISE_ROUTER_PRIVATE_KEY, a subgraph
 * SHELFWISE_ROUTER_PUBLIC_KEY (or the private key). Fails with an actionable message when they are missing,
 * because two processes with generated keys would never trust each other.
 */
export function configureCallerTrust(role: 'router' | 'subgraph', env: NodeJS.ProcessEnv = process.env): CallerTrust {
  const privateKey = getEnvOptional('SHELFWISE_ROUTER_PRIVATE_KEY', env);
  const publicKey = getEnvOptional('SHELFWISE_ROUTER_PUBLIC_KEY', env);
  if (role === 'router' && !privateKey) {
    throw new Error(
      'SHELFWISE_ROUTER_PRIVATE_KEY is not set. Run `npm run keys` and give the router the private key and every subgraph the public key.',
    );
  }
  if (role === 'subgraph' && !privateKey && !publicKey) {
    throw new Error(
      'SHELFWISE_ROUTER_PUBLIC_KEY is not set: a subgraph on its own only answers the router it has the key of. Run `npm run keys`.',
    );
  }
  const trust = CallerTrust.fromKeys({ privateKey, publicKey });
  setCallerTrust(trust);
  return trust;
}

let processServiceTrust: CallerTrust | undefined;

/**
 * The process's service trust (internal calls between subgraphs): configured by
 * {@link configureServiceTrust}, otherwise generated for this process like {@link callerTrust}.
 */
export function serviceTrust(): CallerTrust {
  processServiceTrust ??= CallerTrust.generate('service');
  return processServiceTrust;
}

export function setServiceTrust(trust: CallerTrust): void {
  if (trust.purpose !== 'service') throw new Error('setServiceTrust needs a service-purpose CallerTrust.');
  processServiceTrust = trust;
}

/**
 * For a subgraph running in its own process: SHELFWISE_SERVICE_PRIVATE_KEY lets it call other subgraphs'
 * internal operations (and answer them); SHELFWISE_SERVICE_PUBLIC_KEY alone lets it answer them. Services
 * that make internal calls (loans, reservations…) need the private key.
 */
export function configureServiceTrust(env: NodeJS.ProcessEnv = process.env): CallerTrust {
  const privateKey = getEnvOptional('SHELFWISE_SERVICE_PRIVATE_KEY', env);
  const publicKey = getEnvOptional('SHELFWISE_SERVICE_PUBLIC_KEY', env);
  if (!privateKey && !publicKey) {
    throw new Error(
      'SHELFWISE_SERVICE_PRIVATE_KEY is not set: subgraphs in separate processes need a shared service key to call each other. Run `npm run keys`.',
    );
  }
  const trust = CallerTrust.fromKeys({ privateKey, publicKey }, 'service');
  setServiceTrust(trust);
  return trust;
}

/** The credential a service sends on an internal call to another subgraph. */
export function serviceCredential(service: string): string {
  return serviceTrust().sign({ viewer: null, clientAddress: null, service });
}

/**
 * The caller a subgraph request's credential vouches for: a user through the router, or a service.
 * Null when neither key vouches for it.
 */
export function verifyCredential(token: string | undefined): Caller | null {
  return callerTrust().verify(token) ?? serviceTrust().verify(token);
}

/** The credential the router sends for `viewer` (tests use it to call subgraphs directly). */
export function callerCredential(viewer: Viewer | null, clientAddress: string | null = null): string {
  return callerTrust().sign({ viewer, clientAddress });
}

const requestCallers = new WeakMap<IncomingMessage, Caller>();

/** Remembers the verified caller of a request (the subgraph bootstrap does this before GraphQL runs). */
export function attachCaller(req: IncomingMessage, caller: Caller): void {
  requestCallers.set(req, caller);
}

/** The verified caller of a request; anonymous when none was attached. */
export function callerOf(req: IncomingMessage): Caller {
  return requestCallers.get(req) ?? { viewer: null, clientAddress: null };
}

/** The service making an internal call, or null for a call through the router. */
export function serviceOf(req: IncomingMessage): string | null {
  return callerOf(req).service ?? null;
}

/** The verified viewer of a request, for a subgraph's context. */
export function viewerOf(req: IncomingMessage): Viewer | null {
  return callerOf(req).viewer;
}
