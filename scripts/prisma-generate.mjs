#!/usr/bin/env node
// Generates every subgraph's Prisma client (prisma/<name>/schema.prisma → subgraphs/<name>/src/generated/prisma).
// The Prisma CLI tries to download its native schema engine on every command; that download is not
// reachable here and `generate` does not need the engine, so we point PRISMA_SCHEMA_ENGINE_BINARY at a
// file that exists. Runs from `postinstall`, so a fresh `npm install` leaves the clients ready.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prismaBin = path.join(root, 'node_modules', 'prisma', 'build', 'index.js');
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};

for (const name of readdirSync(path.join(root, 'prisma')).sort()) {
  const schema = path.join(root, 'prisma', name, 'schema.prisma');
  if (!existsSync(schema)) continue;
  execFileSync(process.execPath, [prismaBin, 'generate', '--schema', schema], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`prisma client generated for ${name}`);
}
