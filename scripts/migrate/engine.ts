/**
 * Prisma's schema engine, compiled to WebAssembly (@prisma/schema-engine-wasm), driven over throw-away
 * in-memory PGlite databases. This is what `prisma migrate diff --from-migrations … --to-schema …` does,
 * without the native engine the Prisma 7 CLI downloads on every migrate command (not reachable here) and
 * without a database server: the migrations are applied to a scratch PGlite ("shadow database"), which
 * the engine then compares with schema.prisma.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import {
  bindMigrationAwareSqlAdapterFactory,
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaContainer, SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import { PrismaPGlite } from 'pglite-prisma-adapter';

export type { MigrationList, SchemaContainer } from '@prisma/schema-engine-wasm/schema_engine_bg';

let loaded = false;

/**
 * Instantiates the engine's WebAssembly once per process. The package's own entry point imports the
 * .wasm file as an ES module, which Node 20 cannot do; its `_bg` bindings plus a compiled module can.
 */
function loadBindings(): typeof bindings {
  if (loaded) return bindings;
  const require = createRequire(import.meta.url);
  const bindingsFile = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const module = new WebAssembly.Module(readFileSync(path.join(path.dirname(bindingsFile), 'schema_engine_bg.wasm')));
  const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': bindings as unknown as WebAssembly.ModuleImports });
  bindings.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  loaded = true;
  return bindings;
}

/** The same embedded database the services use when no DATABASE_URL is set (PGlite with pg_trgm). */
const PGLITE_EXTENSIONS = { pg_trgm };

interface PostgresErrorLike {
  code: string;
  severity?: string;
  message: string;
  detail?: string;
  column?: string;
  hint?: string;
}

function isPostgresError(err: unknown): err is PostgresErrorLike {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

/**
 * A Prisma driver adapter over one PGlite. pglite-prisma-adapter's executeScript does not await PGlite,
 * so a failing migration would surface as an unhandled rejection while the engine carried on; scripts
 * run here instead, and a PostgreSQL error reaches the engine (and so the message) as one.
 */
async function adapterFor(db: PGlite): Promise<SqlDriverAdapter> {
  const inner = await new PrismaPGlite(db).connect();
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    queryRaw: (query) => inner.queryRaw(query),
    executeRaw: (query) => inner.executeRaw(query),
    startTransaction: (isolationLevel) => inner.startTransaction(isolationLevel),
    getConnectionInfo: () => inner.getConnectionInfo?.() ?? { supportsRelationJoins: true },
    dispose: () => inner.dispose(),
    async executeScript(script: string) {
      try {
        await db.exec(script);
      } catch (err) {
        if (!isPostgresError(err)) throw err;
        throw new DriverAdapterError({
          kind: 'postgres',
          code: err.code,
          severity: err.severity ?? 'ERROR',
          message: err.message,
          detail: err.detail,
          column: err.column,
          hint: err.hint,
        });
      }
    },
  };
}

/** The engine's messages end in a Rust span trace ("   0: schema_engine_wasm::…"): useful to nobody here. */
export function engineMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const cut = message.search(/\n\s*0: schema_engine_wasm::/);
  return (cut >= 0 ? message.slice(0, cut) : message).trim();
}

export interface ScratchEngine {
  /**
   * The SQL script that takes a database built by `migrations` to what `schema` describes, exactly as
   * `prisma migrate diff --from-migrations <dir> --to-schema <schema> --script` prints it, or null when
   * they agree. Throws (with the engine's message, e.g. P3006 naming the migration) when a migration
   * does not apply or the schema is invalid.
   */
  diff(migrations: MigrationList, schema: SchemaContainer): Promise<string | null>;
  /** A fresh, empty in-memory PGlite like a service's embedded one; the caller closes it. */
  freshDatabase(): Promise<PGlite>;
  close(): Promise<void>;
}

/** Starts the WebAssembly schema engine over scratch PGlite databases. Close it when done. */
export async function openScratchEngine(): Promise<ScratchEngine> {
  const { SchemaEngine } = loadBindings();
  // Creating a PGlite runs initdb (seconds); loading a dump of a fresh one does not.
  const main = await PGlite.create('memory://', { extensions: PGLITE_EXTENSIONS });
  const emptyDataDir = await main.dumpDataDir('none');
  const freshDatabase = () => PGlite.create({ loadDataDir: emptyDataDir, extensions: PGLITE_EXTENSIONS });

  let shadows: PGlite[] = [];
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'postgres',
    adapterName: '@shelfwise/migrate-scratch',
    // The engine connects to its "main" database when it starts; diffs between migrations and a schema
    // never touch it.
    connect: () => adapterFor(main),
    // Every diff from migrations asks for a shadow database: a new empty one each time.
    async connectToShadowDb() {
      const shadow = await freshDatabase();
      shadows.push(shadow);
      return adapterFor(shadow);
    },
  };
  const engineLog = process.env.SHELFWISE_MIGRATE_DEBUG ? (line: string) => process.stderr.write(line) : () => undefined;
  let engine: SchemaEngine;
  try {
    engine = await SchemaEngine.new({ datamodels: undefined }, engineLog, bindMigrationAwareSqlAdapterFactory(factory));
  } catch (err) {
    await main.close();
    throw new Error(`Prisma's schema engine did not start: ${engineMessage(err)}`, { cause: err });
  }

  const closeShadows = async () => {
    const open = shadows;
    shadows = [];
    await Promise.all(open.map((db) => (db.closed ? undefined : db.close())));
  };

  return {
    async diff(migrations, schema) {
      try {
        const result = await engine.diff({
          from: { tag: 'migrations', ...migrations },
          to: { tag: 'schemaDatamodel', files: [schema] },
          script: true,
          exitCode: true,
          filters: { externalTables: [], externalEnums: [] },
        });
        // With exitCode requested the engine answers 2 when the diff is not empty (as --exit-code does).
        return result.exitCode === 0 ? null : (result.stdout ?? '');
      } catch (err) {
        throw new Error(engineMessage(err), { cause: err });
      } finally {
        await closeShadows();
      }
    },
    freshDatabase,
    async close() {
      engine.free();
      await closeShadows();
      if (!main.closed) await main.close();
    },
  };
}
