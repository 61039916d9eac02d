import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultSubgraphUrl, ROUTER_PORT, SUBGRAPHS, subgraphUrlEnvVar } from '@shelfwise/kit';
import { parse } from 'yaml';
import { namesOf, readEnvExample, REPO, scanEnvReads } from './env-reads.js';

/**
 * docker-compose.yml checked against the kit's SUBGRAPHS list, the code's environment variables and
 * .env.example. (`docker compose config` would need the compose plugin, which this machine's docker
 * client does not have; the YAML is parsed here instead, with merge keys as compose reads them.)
 */

interface Healthcheck {
  test?: string[] | string;
}
interface Service {
  image?: string;
  build?: { context?: string; dockerfile?: string; target?: string } | string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number)[];
  expose?: (string | number)[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: Healthcheck;
}
interface ComposeFile {
  services: Record<string, Service>;
}

const composeText = readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as ComposeFile;
const services = compose.services;
const nginxConf = readFileSync(path.join(REPO, 'deploy', 'nginx.conf'), 'utf8');
const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');

function serviceNamed(name: string): Service {
  const service = services[name];
  if (!service) throw new Error(`docker-compose.yml has no service "${name}"`);
  return service;
}

function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((pair) => [pair.split('=')[0]!, pair.slice(pair.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function text(value: string[] | string | undefined): string {
  return Array.isArray(value) ? value.join(' ') : (value ?? '');
}

/** The Dockerfile stage a service builds, or undefined when it uses an image only. */
function buildTarget(service: Service): { context: string; dockerfile: string; target?: string } | undefined {
  if (service.build === undefined) return undefined;
  if (typeof service.build === 'string') return { context: service.build, dockerfile: 'Dockerfile' };
  return { context: service.build.context ?? '.', dockerfile: service.build.dockerfile ?? 'Dockerfile', target: service.build.target };
}

/** Container ports a service offers: `expose` entries and the container side of `ports`. */
function containerPorts(service: Service): number[] {
  const fromPorts = (service.ports ?? []).map((p) => Number(String(p).split(':').at(-1)));
  return [...(service.expose ?? []).map(Number), ...fromPorts];
}

function hostPorts(service: Service): number[] {
  return (service.ports ?? [])
    .map((p) => String(p).split(':'))
    .filter((parts) => parts.length > 1)
    .map((parts) => Number(parts.at(-2)));
}

function dependsOn(service: Service): Record<string, { condition?: string }> {
  const deps = service.depends_on ?? {};
  return Array.isArray(deps) ? Object.fromEntries(deps.map((d) => [d, {}])) : deps;
}

describe('docker-compose.yml', () => {
  it('runs postgres:16 and redis:7 with healthchecks', () => {
    const postgres = serviceNamed('postgres');
    expect(postgres.image).toMatch(/^postgres:16(\.|$|-)/);
    expect(text(postgres.healthcheck?.test)).toMatch(/pg_isready/);
    const redis = serviceNamed('redis');
    expect(redis.image).toMatch(/^redis:7(\.|$|-)/);
    expect(text(redis.healthcheck?.test)).toMatch(/redis-cli ping/);
  });

  describe.each(SUBGRAPHS.map((s) => [s.name, s.port] as const))('subgraph %s', (name, port) => {
    const service = () => serviceNamed(name);

    it('is built from the root Dockerfile and runs its own entry point', () => {
      expect(buildTarget(service())).toEqual({ context: '.', dockerfile: 'Dockerfile', target: 'app' });
      // node itself: `npx tsx …` and `npm start …` exit on SIGTERM without passing it on, so the
      // service would be killed instead of draining (checked by hand with npm 11).
      expect(text(service().command)).toBe(`node --import tsx subgraphs/${name}/src/index.ts`);
    });

    it("listens on the kit's port on every interface of its container, reachable only inside the compose network", () => {
      const env = envOf(service());
      expect(env[`SHELFWISE_${name.toUpperCase()}_PORT`] ?? String(port)).toBe(String(port));
      expect(env.SHELFWISE_BIND_HOST).toBe('0.0.0.0');
      expect(containerPorts(service())).toContain(port);
      // subgraphs answer only the router (signed credential); still, never publish them on the host
      expect(service().ports ?? []).toEqual([]);
    });

    it('uses the shared PostgreSQL and Redis, with telemetry off', () => {
      expect(envOf(service())).toMatchObject({
        DATABASE_URL: 'postgres://postgres:postgres@postgres:5432/postgres',
        REDIS_URL: 'redis://redis:6379',
        APOLLO_TELEMETRY_DISABLED: 'true',
      });
    });

    it('has a /health healthcheck on its port (node fetch) and waits for healthy postgres and redis', () => {
      const test = text(service().healthcheck?.test);
      expect(test).toContain(`http://127.0.0.1:${port}/health`);
      expect(test).toMatch(/node -e .*fetch\(/);
      expect(dependsOn(service())).toMatchObject({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    });
  });

  describe('router', () => {
    const router = () => serviceNamed('router');

    it('is one instance on port 4000 with a /health healthcheck', () => {
      expect(buildTarget(router())).toEqual({ context: '.', dockerfile: 'Dockerfile', target: 'app' });
      expect(text(router().command)).toBe('node --import tsx router/src/index.ts');
      expect(ROUTER_PORT).toBe(4000);
      expect(envOf(router()).PORT ?? String(ROUTER_PORT)).toBe(String(ROUTER_PORT));
      expect(containerPorts(router())).toContain(ROUTER_PORT);
      expect(hostPorts(router())).toEqual([ROUTER_PORT]);
      expect(text(router().healthcheck?.test)).toContain(`http://127.0.0.1:${ROUTER_PORT}/health`);
      expect((router() as { deploy?: { replicas?: number } }).deploy?.replicas ?? 1).toBe(1);
      expect(envOf(router()).APOLLO_TELEMETRY_DISABLED).toBe('true');
    });

    it('reaches every subgraph by its service name and port', () => {
      const env = envOf(router());
      for (const { name } of SUBGRAPHS) {
        expect([name, env[subgraphUrlEnvVar(name)]]).toEqual([name, defaultSubgraphUrl(name, name)]);
      }
      // and names no subgraph the kit does not know
      const urlVars = Object.keys(env).filter((k) => /^SHELFWISE_[A-Z]+_URL$/.test(k));
      expect(urlVars.sort()).toEqual(SUBGRAPHS.map((s) => subgraphUrlEnvVar(s.name)).sort());
    });

    it('lets every subgraph reach every other one for internal calls, with the service key', () => {
      for (const { name: from } of SUBGRAPHS) {
        const env = envOf(serviceNamed(from));
        expect(env.SHELFWISE_SERVICE_PRIVATE_KEY).toMatch(/npm run keys/);
        for (const { name } of SUBGRAPHS)
          expect([from, name, env[subgraphUrlEnvVar(name)]]).toEqual([from, name, defaultSubgraphUrl(name, name)]);
      }
    });

    it('starts after every subgraph is healthy', () => {
      const deps = dependsOn(router());
      for (const { name } of SUBGRAPHS) expect([name, deps[name]?.condition]).toEqual([name, 'service_healthy']);
    });
  });

  describe('client', () => {
    it('is nginx built from the root Dockerfile, on port 8080, after the router is healthy', () => {
      const client = serviceNamed('client');
      expect(buildTarget(client)).toEqual({ context: '.', dockerfile: 'Dockerfile', target: 'client' });
      expect(hostPorts(client)).toEqual([8080]);
      expect(containerPorts(client)).toEqual([8080]);
      expect(dependsOn(client)).toEqual({ router: { condition: 'service_healthy' } });
      expect(text(client.healthcheck?.test)).toContain('http://127.0.0.1:8080/');
    });

    it('nginx serves the app on 8080 and proxies /graphql, WebSocket upgrade included, to router:4000', () => {
      expect(nginxConf).toMatch(/listen\s+8080;/);
      expect(nginxConf).toMatch(/server\s+router:4000/);
      const graphql = /location \/graphql \{([^}]*)\}/.exec(nginxConf)?.[1] ?? '';
      expect(graphql).toMatch(/proxy_pass http:\/\/router;/);
      expect(graphql).toMatch(/proxy_http_version 1\.1;/);
      expect(graphql).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
      expect(graphql).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
      expect(nginxConf).toMatch(/map \$http_upgrade \$connection_upgrade \{[^}]*default\s+upgrade;/);
      // a client cannot claim to be someone: the caller credential is the router's to set
      expect(graphql).toMatch(/proxy_set_header x-shelfwise-caller "";/);
      expect(nginxConf).toMatch(/location \/ \{\s*try_files \$uri \/index\.html;/);
    });
  });

  it('Dockerfile: node:20-slim, npm ci (prisma generate runs as its postinstall), the client build, and the two targets', () => {
    expect(dockerfile).toMatch(/^FROM node:20-slim AS build$/m);
    expect(dockerfile).toMatch(/^RUN npm ci$/m);
    expect(dockerfile).toMatch(/^RUN npm run build -w @shelfwise\/client$/m);
    expect(dockerfile).toMatch(/^FROM nginx:[^\s]+ AS client$/m);
    expect(dockerfile).toMatch(/^COPY deploy\/nginx\.conf /m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/client\/dist \/usr\/share\/nginx\/html$/m);
    expect(dockerfile).toMatch(/^FROM build AS app$/m);
    const rootPackage = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    expect(rootPackage.scripts?.postinstall).toBe('node scripts/prisma-generate.mjs');
  });

  it('every depends_on waits on a condition', () => {
    const missing: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      if (Array.isArray(service.depends_on)) missing.push(`${name} (list form)`);
      for (const [dep, spec] of Object.entries(dependsOn(service))) {
        if (!spec.condition) missing.push(`${name} → ${dep}`);
        expect([name, dep, dep in services]).toEqual([name, dep, true]);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every platform variable it sets or interpolates is read by the code and listed in .env.example', () => {
    const PLATFORM_VAR = /^(SHELFWISE_[A-Z0-9_]+|DATABASE_URL|REDIS_URL|PORT|LOG_LEVEL|APOLLO_[A-Z0-9_]+)$/;
    const set = new Set(Object.values(services).flatMap((s) => Object.keys(envOf(s))));
    const interpolated = new Set([...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!));
    const named = [...new Set([...set, ...interpolated])].filter((n) => PLATFORM_VAR.test(n)).sort();
    expect(named).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'SHELFWISE_BIND_HOST', 'APOLLO_TELEMETRY_DISABLED', 'PORT']),
    );

    const read = namesOf(scanEnvReads().reads);
    // read through the kit's helpers, whether or not a caller exists yet
    const derived = new Set(SUBGRAPHS.flatMap(({ name }) => [subgraphUrlEnvVar(name), `SHELFWISE_${name.toUpperCase()}_PORT`]));
    // read by the Apollo libraries themselves
    const byLibraries = new Set(['APOLLO_TELEMETRY_DISABLED']);
    expect(named.filter((n) => !read.has(n) && !derived.has(n) && !byLibraries.has(n))).toEqual([]);

    const listed = new Set(readEnvExample().map((e) => e.name));
    expect(named.filter((n) => !listed.has(n))).toEqual([]);
  });
});
