// semantic-layer/cube.js — the configuration real Cube loads — authenticates like the embedded
// engine and rewrites queries with the very same region rule.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../semantic-layer/engine/auth.ts';
import { loadModel } from '../semantic-layer/engine/model.ts';
import { applyRegionRule, type RegionScopes } from '../semantic-layer/engine/region-rule.js';
import { TEST_MODEL_DIR, TEST_SECRET } from '../semantic-layer/test-model/fixture.ts';

interface CubeConfig {
  default: {
    schemaPath: string;
    checkAuth(req: Record<string, unknown>, auth?: string): Promise<{ security_context: Record<string, unknown> }>;
    queryRewrite(q: Record<string, unknown>, ctx: { securityContext: unknown }): Promise<Record<string, unknown>>;
  };
}

let config: CubeConfig['default'];
const saved = { model: process.env.YINLING_MODEL_DIR, secret: process.env.CUBEJS_API_SECRET };

beforeAll(async () => {
  process.env.YINLING_MODEL_DIR = TEST_MODEL_DIR;
  process.env.CUBEJS_API_SECRET = TEST_SECRET;
  const url = pathToFileURL(path.resolve(import.meta.dirname, '../semantic-layer/cube.js')).href;
  config = ((await import(/* @vite-ignore */ url)) as CubeConfig).default;
});
afterAll(() => {
  process.env.YINLING_MODEL_DIR = saved.model;
  process.env.CUBEJS_API_SECRET = saved.secret;
});

describe('semantic-layer/cube.js', () => {
  it('exports a Cube configuration reading the model folder', () => {
    expect(config.schemaPath).toBe('model');
    expect(typeof config.checkAuth).toBe('function');
    expect(typeof config.queryRewrite).toBe('function');
  });

  it('checkAuth accepts signed tokens with a region scope and refuses the rest with 403s', async () => {
    const ctx = { role: 'staff', region_code: '330602', region_level: 'district' };
    const req: Record<string, unknown> = {};
    const res = await config.checkAuth(req, await signToken(ctx, TEST_SECRET));
    expect(res.security_context).toMatchObject(ctx);
    expect(req.securityContext).toMatchObject(ctx);
    await expect(config.checkAuth({}, `Bearer ${await signToken(ctx, TEST_SECRET)}`)).resolves.toBeTruthy();
    await expect(config.checkAuth({}, undefined)).rejects.toMatchObject({ status: 403, message: "Authorization header isn't set" });
    await expect(config.checkAuth({}, await signToken(ctx, 'wrong'))).rejects.toMatchObject({ status: 403, message: 'Invalid token' });
    await expect(config.checkAuth({}, await signToken({ role: 'staff' }, TEST_SECRET))).rejects.toMatchObject({
      status: 403,
      message: 'The security context carries no valid region_code'
    });
  });

  it("queryRewrite adds exactly the engine's region filters", async () => {
    const model = loadModel(TEST_MODEL_DIR);
    const scopes: RegionScopes = {};
    for (const c of model.cubes.values()) scopes[c.name] = c.regionScope;
    for (const v of model.views.values()) scopes[v.name] = v.regionScope;
    const district = { region_code: '330602', region_level: 'district' };
    const queries = [
      { measures: ['orders.count'], dimensions: ['customers.segment'], filters: [] },
      { measures: ['sales.count'], dimensions: ['sales.customers_name'] },
      { measures: ['fund_ledger.balance'] }
    ];
    for (const q of queries) {
      expect(await config.queryRewrite(q, { securityContext: district })).toEqual(applyRegionRule(q, district, scopes));
    }
    expect(await config.queryRewrite(queries[1], { securityContext: district })).toMatchObject({
      filters: [{ member: 'sales.region_path', operator: 'contains', values: ['/330602/'] }]
    });
    await expect(config.queryRewrite({ measures: ['audit_notes.count'] }, { securityContext: district })).rejects.toMatchObject({
      status: 403
    });
    expect(
      await config.queryRewrite({ measures: ['audit_notes.count'] }, { securityContext: { region_code: '330600', region_level: 'city' } })
    ).toEqual({ measures: ['audit_notes.count'] });
  });
});
