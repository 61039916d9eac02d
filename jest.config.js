/**
 * One jest run for the whole monorepo. Native ESM (the Prisma 7 client and PGlite are ESM), TypeScript
 * compiled by SWC. Run through `npm test`, which sets NODE_OPTIONS=--experimental-vm-modules.
 */
/** @type {import('jest').Config} */
const config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: [
    '<rootDir>/{packages,subgraphs,router,bench,test}/**/*.test.ts',
    '<rootDir>/{packages,subgraphs,router,test}/**/test/**/*.test.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/client/'],
  testTimeout: 60_000,
  maxWorkers: 2,
};

export default config;
