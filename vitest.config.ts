// Two projects. `unit`: the tests next to the code (*.test.ts in core/, jobs/, seeds/,
// semantic-layer/, docs/, dashboard/lib/) — database-free, seconds (`npm run test:unit`).
// `integration`: tests/ and dashboard/e2e/ — a real PostgreSQL started once per run by
// tests/global-setup.ts (a fresh database per suite) and Debian's Chromium. `npm test` runs both.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
    expect: { requireAssertions: true },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['{core,jobs,seeds,semantic-layer,docs}/**/*.test.ts', 'dashboard/lib/**/*.test.ts'] }
      },
      {
        extends: true,
        test: { name: 'integration', include: ['tests/**/*.test.ts', 'dashboard/e2e/**/*.test.ts'], globalSetup: ['tests/global-setup.ts'] }
      }
    ]
  }
});
