/**
 * One jest run for the whole monorepo. Native ESM (the Prisma 7 client and PGlite are ESM), TypeScript
 * compiled by SWC. Run through `npm test`, which sets NODE_OPTIONS=--experimental-vm-modules.
 */
/** @type {import('jest').Config} */
const config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
    // The web app's component tests (client/test/*.test.tsx, in jsdom by their docblock).
    '^.+\\.tsx$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '\\.css$': '<rootDir>/client/test/style-stub.cjs',
  },
  testMatch: [
    '<rootDir>/{packages,subgraphs,router,bench,test}/**/*.test.ts',
    '<rootDir>/{packages,subgraphs,router,test}/**/test/**/*.test.ts',
    '<rootDir>/client/test/**/*.test.{ts,tsx}',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 60_000,
  maxWorkers: 2,
};

export default config;
