// The layering rule (eslint.config.js) is a real check: ESLint refuses an import that goes up a
// layer, and lets the allowed directions through. `npm run lint` applies it to the whole tree in CI.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../core/config.ts';

const eslint = new ESLint({ cwd: ROOT });

async function importErrors(file: string, spec: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import { x } from '${spec}';\nexport const y = x;\n`, { filePath: path.join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering', () => {
  it.each([
    ['core/db/new.ts', '../../jobs/runner.ts'],
    ['core/new.ts', '../dashboard/lib/server/db.ts'],
    ['core/domain/new.ts', '../../semantic-layer/engine/index.ts'],
    ['core/new.ts', '../seeds/generator/index.ts'],
    ['dashboard/lib/server/new.ts', '../../../jobs/registry.ts'],
    ['dashboard/routes/api/new/+server.ts', '../../../../jobs/exports.ts'],
    ['semantic-layer/engine/new.ts', '../../dashboard/lib/server/db.ts'],
    ['seeds/generator/new.ts', '../../jobs/ingest/feeds.ts'],
    ['jobs/engines/new.ts', '../../dashboard/lib/server/scope.ts']
  ])('refuses %s importing %s', async (file, spec) => {
    expect(await importErrors(file, spec)).toHaveLength(1);
  });

  it.each([
    ['jobs/engines/new.ts', '../../core/db/pool.ts'],
    ['dashboard/lib/server/new.ts', '../../../core/errors.ts'],
    ['dashboard/lib/server/new.ts', '../../../semantic-layer/engine/index.ts'],
    ['semantic-layer/engine/new.ts', '../../core/domain/masking.ts'],
    ['seeds/generator/new.ts', '../../core/domain/id-number.ts'],
    ['core/db/new.ts', '../domain/masking.ts'],
    ['jobs/cli/new.ts', '../../seeds/generator/index.ts']
  ])('allows %s importing %s', async (file, spec) => {
    expect(await importErrors(file, spec)).toEqual([]);
  });
});
