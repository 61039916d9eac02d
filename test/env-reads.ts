/**
 * Finds the environment variables Shelfwise's code reads, for test/env-example.test.ts and
 * test/compose.test.ts. It reads the source text (no type information), so it understands the ways this
 * codebase reads the environment and reports every other dynamic read as unresolved instead of guessing:
 *
 * - `getEnvStr|getEnvNum|getEnvBool|getEnvOptional('NAME', …)`
 * - the same with a template naming a per-subgraph variable, e.g. getEnvNum(`SHELFWISE_${name.toUpperCase()}_PORT`):
 *   expanded over the kit's SUBGRAPH_NAMES
 * - the same with `subgraphUrlEnvVar(…)` as the name: every SHELFWISE_<NAME>_URL
 * - `process.env.NAME`, `process.env['NAME']`, `const { NAME } = process.env`
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBGRAPH_NAMES, subgraphUrlEnvVar } from '@shelfwise/kit';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where the platform's code lives (tests excluded: see {@link isSourceFile}). */
export const SOURCE_ROOTS = ['packages', 'subgraphs', 'router', 'scripts', 'bench'];

const SOURCE_EXTENSIONS = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs']);
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'generated', 'test', 'results', '.data']);

export interface EnvRead {
  name: string;
  /** repo-relative path:line */
  where: string;
}

export interface EnvScan {
  reads: EnvRead[];
  /** Reads whose variable name the scanner cannot work out (a variable or call it does not know). */
  unresolved: EnvRead[];
  files: string[];
}

/** Code files under the source roots; tests (`test/` folders, `*.test.ts`) are not the platform's code. */
export function sourceFiles(roots: string[] = SOURCE_ROOTS): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.')) walk(full);
      } else if (isSourceFile(entry.name)) {
        files.push(full);
      }
    }
  };
  for (const root of roots) walk(path.join(REPO, root));
  return files.sort();
}

function isSourceFile(name: string): boolean {
  return SOURCE_EXTENSIONS.has(path.extname(name)) && !/\.(test|spec)\.[cm]?[jt]sx?$/.test(name) && !name.endsWith('.d.ts');
}

/** Every SHELFWISE_<NAME>_… variable a template such as `SHELFWISE_${name.toUpperCase()}_PORT` can produce. */
function expandTemplate(template: string): string[] | undefined {
  const match = /^([A-Z0-9_]*)\$\{[^}]*\}([A-Z0-9_]*)$/.exec(template);
  if (!match) return undefined;
  return SUBGRAPH_NAMES.map((name) => `${match[1]}${name.toUpperCase()}${match[2]}`);
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

export function scanEnvReads(files: string[] = sourceFiles()): EnvScan {
  const reads: EnvRead[] = [];
  const unresolved: EnvRead[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const rel = path.relative(REPO, file);
    const at = (index: number) => `${rel}:${lineOf(text, index)}`;

    // getEnv*( <first argument> — but not the helpers' own definitions (`function getEnvStr(name: string…`).
    for (const m of text.matchAll(/(?<!function\s+)\bgetEnv(?:Str|Num|Bool|Optional)\(\s*(`[^`]*`|'[^']*'|"[^"]*"|[^,)\n]*)/g)) {
      const arg = m[1]!.trim();
      const where = at(m.index);
      const literal = /^(['"])([A-Za-z_][A-Za-z0-9_]*)\1$/.exec(arg);
      const template = /^`([^`]*)`$/.exec(arg);
      if (literal) reads.push({ name: literal[2]!, where });
      else if (template && !template[1]!.includes('${')) reads.push({ name: template[1]!, where });
      else if (template && expandTemplate(template[1]!)) for (const name of expandTemplate(template[1]!)!) reads.push({ name, where });
      else if (/^subgraphUrlEnvVar\(/.test(arg)) for (const name of SUBGRAPH_NAMES) reads.push({ name: subgraphUrlEnvVar(name), where });
      else unresolved.push({ name: arg, where });
    }

    for (const m of text.matchAll(/\bprocess\.env\.([A-Za-z_][A-Za-z0-9_]*)/g)) reads.push({ name: m[1]!, where: at(m.index) });
    for (const m of text.matchAll(/\bprocess\.env\[\s*([^\]]*)\]/g)) {
      const literal = /^(['"`])([A-Za-z_][A-Za-z0-9_]*)\1$/.exec(m[1]!.trim());
      if (literal) reads.push({ name: literal[2]!, where: at(m.index) });
      else unresolved.push({ name: `process.env[${m[1]!.trim()}]`, where: at(m.index) });
    }
    for (const m of text.matchAll(/\{([^{}]*)\}\s*=\s*process\.env\b/g)) {
      for (const part of m[1]!.split(',')) {
        const name = /^\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(part)?.[1];
        if (name) reads.push({ name, where: at(m.index) });
      }
    }
  }
  return { reads, unresolved, files };
}

/** The distinct names in `reads`. */
export function namesOf(reads: EnvRead[]): Set<string> {
  return new Set(reads.map((r) => r.name));
}

export interface EnvExampleEntry {
  name: string;
  value: string;
  /** The comment lines right above the assignment. */
  comment: string[];
  /** Written as `# NAME=value` (documented, left unset). */
  commentedOut: boolean;
  line: number;
}

/**
 * Reads `.env.example`: `NAME=value` lines, or `# NAME=value` for variables documented but left unset,
 * each with the comment block right above it.
 */
export function parseEnvExample(text: string): EnvExampleEntry[] {
  const entries: EnvExampleEntry[] = [];
  let comment: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const assignment = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (assignment) {
      entries.push({ name: assignment[2]!, value: assignment[3]!, comment, commentedOut: assignment[1] !== undefined, line: i + 1 });
      comment = [];
    } else if (line.startsWith('#')) {
      comment.push(line.replace(/^#\s?/, ''));
    } else {
      comment = [];
    }
  });
  return entries;
}

export function readEnvExample(): EnvExampleEntry[] {
  return parseEnvExample(readFileSync(path.join(REPO, '.env.example'), 'utf8'));
}
