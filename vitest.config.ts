// Unit tests sit next to the code (*.test.ts); integration tests get a real PostgreSQL
// started once per run by tests/global-setup.ts (a fresh database per suite).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'jobs/**/*.test.ts', 'seeds/**/*.test.ts', 'semantic-layer/**/*.test.ts', 'dashboard/**/*.test.ts', 'tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
    expect: { requireAssertions: true }
  }
});
