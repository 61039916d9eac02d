/**
 * Shelfwise's Prisma migration tool (docs/migrations.md). Needs no database server, no network and no
 * native Prisma engine: Prisma's schema engine runs as WebAssembly over in-memory PGlite databases.
 *
 *   npx tsx scripts/migrate.ts new <subgraph> <name>   write prisma/<subgraph>/migrations/<timestamp>_<name>/migration.sql
 *   npx tsx scripts/migrate.ts check [subgraph…]       fail when schema.prisma and the migrations disagree
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSubgraphs, MigrateUsageError, newMigration, type CheckResult } from './migrate/tool.js';

/** The repository root; MIGRATE_ROOT points the tool at another tree with a prisma/ folder (tests). */
const ROOT = path.resolve(process.env.MIGRATE_ROOT ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));

const USAGE = `Usage:
  npm run migrate:new -- <subgraph> <name>   write the migration that brings the subgraph's migrations to its schema.prisma
  npm run migrate:check [-- <subgraph>…]     fail when schema.prisma and the committed migrations disagree`;

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

function describeFailure(result: CheckResult): string {
  const lines = [
    `✗ ${result.subgraph}: ${result.problems.length > 0 ? 'the migrations are not usable' : 'schema.prisma and the migrations disagree'}`,
  ];
  for (const problem of result.problems) lines.push(indent(`- ${problem}`));
  if (result.sql !== null) {
    lines.push(`  A new migration would need:`, indent(result.sql), `  Write it with: npm run migrate:new -- ${result.subgraph} <name>`);
  }
  return lines.join('\n');
}

async function runNew(args: string[]): Promise<number> {
  const [subgraph, name, ...rest] = args;
  if (!subgraph || !name || rest.length > 0) throw new MigrateUsageError(USAGE);
  const result = await newMigration(ROOT, subgraph, name);
  if (result.dir === null) {
    console.log('No changes: schema.prisma and the migrations agree.');
    return 0;
  }
  const rel = path.relative(ROOT, result.dir);
  console.log(`Wrote ${rel}/migration.sql${result.wroteLock ? ' (and migration_lock.toml)' : ''}:\n`);
  console.log(indent(result.sql ?? ''));
  if (result.warnings.length > 0) {
    console.warn(
      `\n⚠ Review before committing; on a database that already holds rows:\n${result.warnings.map((w) => `  - ${w}`).join('\n')}`,
    );
  }
  if (result.verified && !result.verified.ok) {
    console.error(`\nThe migrations still do not reproduce schema.prisma:\n${describeFailure(result.verified)}`);
    return 1;
  }
  console.log(`\nChecked: the migrations, ${rel} included, now reproduce schema.prisma. Review the SQL, then commit it.`);
  return 0;
}

async function runCheck(args: string[]): Promise<number> {
  const results = await checkSubgraphs(ROOT, args);
  let failed = 0;
  for (const result of results) {
    if (result.ok) {
      console.log(`✓ ${result.subgraph}: schema.prisma and ${result.migrations} migration${result.migrations === 1 ? '' : 's'} agree`);
    } else {
      failed += 1;
      console.error(describeFailure(result));
    }
  }
  if (failed > 0) console.error(`\n${failed} of ${results.length} subgraph${results.length === 1 ? '' : 's'} failed the migration check.`);
  return failed > 0 ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'new') return runNew(args);
  if (command === 'check') return runCheck(args);
  throw new MigrateUsageError(USAGE);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof MigrateUsageError ? err.message : err);
    process.exitCode = err instanceof MigrateUsageError ? 2 : 1;
  },
);
