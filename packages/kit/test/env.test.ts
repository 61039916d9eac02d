import { getEnvBool, getEnvNum, getEnvOptional, getEnvStr, InMemoryBus, poolSizeFromEnv, serviceOptionsFromEnv } from '@shelfwise/kit';

describe('env helpers', () => {
  describe('getEnvStr', () => {
    it('returns the value, trimmed', () => {
      expect(getEnvStr('SHELFWISE_BIND_HOST', '127.0.0.1', { SHELFWISE_BIND_HOST: ' 0.0.0.0 ' })).toBe('0.0.0.0');
    });

    it('falls back when the variable is unset or blank', () => {
      expect(getEnvStr('LOG_LEVEL', 'info', {})).toBe('info');
      expect(getEnvStr('LOG_LEVEL', 'info', { LOG_LEVEL: '   ' })).toBe('info');
    });

    it('throws, naming the variable, when it is required and missing', () => {
      expect(() => getEnvStr('SHELFWISE_SECRET', undefined, {})).toThrow('Environment variable SHELFWISE_SECRET is required but not set.');
      expect(() => getEnvStr('SHELFWISE_SECRET', undefined, { SHELFWISE_SECRET: '' })).toThrow(/SHELFWISE_SECRET/);
    });

    it('reads process.env by default', () => {
      process.env.SHELFWISE_ENV_TEST_STR = 'from process';
      try {
        expect(getEnvStr('SHELFWISE_ENV_TEST_STR')).toBe('from process');
      } finally {
        delete process.env.SHELFWISE_ENV_TEST_STR;
      }
    });
  });

  describe('getEnvOptional', () => {
    it('is undefined when unset or blank and the trimmed value otherwise', () => {
      expect(getEnvOptional('REDIS_URL', {})).toBeUndefined();
      expect(getEnvOptional('REDIS_URL', { REDIS_URL: '' })).toBeUndefined();
      expect(getEnvOptional('REDIS_URL', { REDIS_URL: '  ' })).toBeUndefined();
      expect(getEnvOptional('REDIS_URL', { REDIS_URL: 'redis://redis:6379 ' })).toBe('redis://redis:6379');
    });
  });

  describe('getEnvNum', () => {
    it('parses whole numbers, signs included', () => {
      expect(getEnvNum('SHELFWISE_BOOKS_PORT', 4002, { SHELFWISE_BOOKS_PORT: '5002' })).toBe(5002);
      expect(getEnvNum('N', undefined, { N: ' -3 ' })).toBe(-3);
      expect(getEnvNum('N', undefined, { N: '+7' })).toBe(7);
      expect(getEnvNum('N', undefined, { N: '0' })).toBe(0);
    });

    it('falls back when unset or blank, and throws naming the variable when required', () => {
      expect(getEnvNum('SHELFWISE_BOOKS_PORT', 4002, {})).toBe(4002);
      expect(getEnvNum('SHELFWISE_BOOKS_PORT', 4002, { SHELFWISE_BOOKS_PORT: '' })).toBe(4002);
      expect(() => getEnvNum('SHELFWISE_BOOKS_PORT', undefined, {})).toThrow(
        'Environment variable SHELFWISE_BOOKS_PORT is required but not set.',
      );
    });

    it.each(['abc', '12abc', '4.5', '12.0', '0x10', '1e3', 'Infinity', 'NaN', '--1', '9007199254740993'])(
      'refuses %j, naming the variable and the value',
      (value) => {
        expect(() => getEnvNum('SHELFWISE_BOOKS_PORT', 4002, { SHELFWISE_BOOKS_PORT: value })).toThrow(
          `Environment variable SHELFWISE_BOOKS_PORT must be a whole number, got "${value}".`,
        );
      },
    );
  });

  describe('getEnvBool', () => {
    it.each([
      ['1', true],
      ['true', true],
      ['TRUE', true],
      ['yes', true],
      [' on ', true],
      ['0', false],
      ['false', false],
      ['False', false],
      ['no', false],
      ['off', false],
    ])('reads %j as %s', (value, expected) => {
      expect(getEnvBool('SHELFWISE_TEST_CLOCK', !expected, { SHELFWISE_TEST_CLOCK: value })).toBe(expected);
    });

    it('falls back when unset or blank (false unless told otherwise)', () => {
      expect(getEnvBool('SHELFWISE_TEST_CLOCK', undefined, {})).toBe(false);
      expect(getEnvBool('SHELFWISE_TEST_CLOCK', true, {})).toBe(true);
      expect(getEnvBool('SHELFWISE_TEST_CLOCK', true, { SHELFWISE_TEST_CLOCK: ' ' })).toBe(true);
    });

    it.each(['2', 'enabled', 'y', 'truthy'])('refuses %j, naming the variable', (value) => {
      expect(() => getEnvBool('SHELFWISE_TEST_CLOCK', false, { SHELFWISE_TEST_CLOCK: value })).toThrow(
        `Environment variable SHELFWISE_TEST_CLOCK must be true or false, got "${value}".`,
      );
    });
  });

  describe('database pool size', () => {
    const server = 'postgres://postgres@127.0.0.1:5432/postgres';

    it('is unset by default (db.ts keeps 10) and read from SHELFWISE_DB_POOL_SIZE', () => {
      expect(poolSizeFromEnv({})).toBeUndefined();
      expect(poolSizeFromEnv({ SHELFWISE_DB_POOL_SIZE: '3' })).toBe(3);
    });

    it('refuses a size that is not a whole number from 1 to 1000, naming the variable', () => {
      expect(() => poolSizeFromEnv({ SHELFWISE_DB_POOL_SIZE: '0' })).toThrow(
        'Environment variable SHELFWISE_DB_POOL_SIZE must be between 1 and 1000, got 0.',
      );
      expect(() => poolSizeFromEnv({ SHELFWISE_DB_POOL_SIZE: 'three' })).toThrow(/SHELFWISE_DB_POOL_SIZE must be a whole number/);
    });

    it('reaches the service options with a PostgreSQL server, and is ignored on the embedded PGlite', async () => {
      const bus = new InMemoryBus();
      try {
        expect(serviceOptionsFromEnv('books', { DATABASE_URL: server, SHELFWISE_DB_POOL_SIZE: '3' }, { bus }).poolSize).toBe(3);
        expect(serviceOptionsFromEnv('books', { DATABASE_URL: server }, { bus }).poolSize).toBeUndefined();
        expect(serviceOptionsFromEnv('books', { SHELFWISE_DB_POOL_SIZE: '3' }, { bus }).poolSize).toBeUndefined();
      } finally {
        await bus.dispose();
      }
    });
  });
});
