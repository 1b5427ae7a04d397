// The live feed without a browser: values swap in place, failures keep the last values and back
// off, the first success catches up, 401 hands over to sign-in, and dispose stops everything.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transform } from 'esbuild';
import { compileModule } from 'svelte/compiler';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextAreaPath, cycleAreas, isIdle, noteInput } from './kiosk.ts';
import type { IndicatorsResponse } from './types.ts';

// The root vitest config has no Svelte plugin: compile the runes module the way Vite would
// (strip types, then Svelte's module compiler) and import the result.
type FeedModule = typeof import('./feed.svelte.ts');
let ScreenFeed: FeedModule['ScreenFeed'];
let shareUnchanged: FeedModule['shareUnchanged'];
beforeAll(async () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const ts = fs.readFileSync(path.join(here, 'feed.svelte.ts'), 'utf8');
  const js = (await transform(ts, { loader: 'ts', format: 'esm' })).code;
  const compiled = compileModule(js, { filename: 'feed.svelte.js', generate: 'client' })
    .js.code // written elsewhere: its relative imports (core/errors.ts) must point back to the sources
    .replace(
      /from ["'](\.{1,2}\/[^"']+)["']/g,
      (_m, spec: string) => `from ${JSON.stringify(pathToFileURL(path.resolve(here, spec)).href)}`
    );
  const out = path.resolve(here, '../../../../test-results', `feed-${process.pid}.compiled.mjs`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, compiled);
  ({ ScreenFeed, shareUnchanged } = (await import(pathToFileURL(out).href)) as FeedModule);
});

function board(value: number): IndicatorsResponse {
  return {
    region: {
      code: 'C',
      name: '越州市',
      level: 'city',
      path: '/C/',
      breadcrumb: [],
      children: [{ code: 'D1', name: '越城区', level: 'district' }]
    },
    period: '2026-10',
    periods: ['2026-10'],
    nowPeriod: null,
    asOf: null,
    privacy: false,
    freshness: [],
    indicators: [
      {
        code: 'P01',
        family: 'P',
        title_zh: '退休人员总数',
        title_en: 'Recipients',
        short_en: null,
        unit: 'people',
        direction: 'neutral',
        grain: 'now',
        value,
        exact: String(value),
        previous: null,
        lastYear: null,
        mom: null,
        yoy: null,
        zScore: null,
        vsMedian: null,
        status: 'ok',
        reason_zh: null,
        reason_en: null,
        series: [],
        drillable: true,
        alerts_listable: false,
        current_only: false,
        city_level: false,
        bounds: null
      }
    ]
  };
}

function fakeApi() {
  const state = { value: 100, down: false, status: 200, calls: [] as string[] };
  const fetch = vi.fn(async (url: string) => {
    state.calls.push(url);
    if (state.down) throw new TypeError('Failed to fetch');
    if (state.status !== 200) return new Response('{}', { status: state.status });
    const body = url.startsWith('/api/indicators?')
      ? board(state.value)
      : url.startsWith('/api/indicators/')
        ? { indicator: 'P01', level: 'district', rows: [{ code: 'D1', name: '越城区', value: state.value, status: 'ok' }] }
        : url.startsWith('/api/alerts')
          ? {
              rows: [
                {
                  alert_id: state.value,
                  rule: 'paid_after_death',
                  rule_zh: '死亡仍领待遇',
                  name: '张*',
                  amount_at_risk: '100.00',
                  opened_at: '2026-10-01T00:00:00Z',
                  region_name: 'x',
                  severity: 'critical'
                }
              ]
            }
          : { type: 'FeatureCollection', features: [] };
    return new Response(JSON.stringify(body), { status: 200 });
  });
  return { state, fetch: fetch as unknown as typeof globalThis.fetch };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the live feed', () => {
  it('updates values in place every refresh, and keeps the last values through an outage', async () => {
    const api = fakeApi();
    const feed = new ScreenFeed({ region: 'C', period: null, refreshSeconds: 60, initial: board(100), indicator: 'P01', fetch: api.fetch });
    feed.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(feed.alerts).toHaveLength(1);
    expect(feed.regions?.rows[0].value).toBe(100);
    api.state.value = 101;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(feed.data.indicators[0].value).toBe(101);
    expect(feed.freshAlerts.has('101')).toBe(true);

    api.state.down = true;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(feed.connection).toBe('reconnecting');
    expect(feed.data.indicators[0].value).toBe(101); // last values stay
    const before = api.state.calls.length;
    await vi.advanceTimersByTimeAsync(2_000 + 4_000); // backoff 2 s, 4 s …
    expect(api.state.calls.length).toBeGreaterThan(before);

    api.state.down = false;
    api.state.value = 105;
    await vi.advanceTimersByTimeAsync(16_000);
    expect(feed.connection).toBe('ok');
    expect(feed.data.indicators[0].value).toBe(105); // caught up
    feed.dispose();
    const after = api.state.calls.length;
    await vi.advanceTimersByTimeAsync(600_000);
    expect(api.state.calls.length).toBe(after); // nothing runs after dispose
  });

  it('keeps the very same objects when a refresh brings nothing new (nothing re-renders), and swaps them when it does', async () => {
    const api = fakeApi();
    const feed = new ScreenFeed({ region: 'C', period: null, refreshSeconds: 60, initial: board(100), indicator: 'P01', fetch: api.fetch });
    feed.start();
    await vi.advanceTimersByTimeAsync(10);
    await vi.advanceTimersByTimeAsync(60_000); // the first full poll: a new (equal) board replaces the server's
    const [data, regions, alerts] = [feed.data, feed.regions, feed.alerts];
    expect(feed.polls).toBe(2);
    await vi.advanceTimersByTimeAsync(60_000 * 3);
    expect(feed.polls).toBe(5);
    expect(feed.data).toBe(data);
    expect(feed.regions).toBe(regions);
    expect(feed.alerts).toBe(alerts);
    expect(feed.freshAlerts.size).toBe(0);

    api.state.value = 102;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(feed.data).not.toBe(data);
    expect(feed.data.indicators[0].value).toBe(102);
    expect(feed.regions?.rows[0].value).toBe(102);
    expect(feed.freshAlerts.has('102')).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000); // unchanged again: the arrival highlight ends, values stay
    expect(feed.freshAlerts.size).toBe(0);
    expect(feed.alerts[0].alert_id).toBe(102);
    feed.dispose();
  });

  it('keeps the objects of the indicators that did not change when others did (only those redraw)', () => {
    const two = (p01: number, a01: number): IndicatorsResponse => {
      const b = board(p01);
      b.indicators.push({ ...b.indicators[0], code: 'A01', family: 'A', value: a01 });
      return b;
    };
    const prev = two(100, 5);
    const next = shareUnchanged(two(100, 6), prev);
    expect(next.indicators[0]).toBe(prev.indicators[0]);
    expect(next.indicators[1]).not.toBe(prev.indicators[1]);
    expect(next.indicators[1].value).toBe(6);
  });

  it('hands over to sign-in on 401 and stops polling', async () => {
    const api = fakeApi();
    const onUnauthorized = vi.fn();
    const feed = new ScreenFeed({
      region: 'C',
      period: '2026-09',
      refreshSeconds: 5,
      initial: board(1),
      indicator: 'P01',
      fetch: api.fetch,
      onUnauthorized
    });
    api.state.status = 401;
    feed.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(onUnauthorized).toHaveBeenCalled();
    const n = api.state.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.state.calls.length).toBe(n);
    expect(api.state.calls.some((u) => u.includes('period=2026-09'))).toBe(true);
    feed.dispose();
  });
});

describe('kiosk cycling', () => {
  it('goes root → each child → root', () => {
    const areas = cycleAreas('C', ['D1', 'D2']);
    expect(nextAreaPath(['C'], areas)).toEqual(['C', 'D1']);
    expect(nextAreaPath(['C', 'D1'], areas)).toEqual(['C', 'D2']);
    expect(nextAreaPath(['C', 'D2'], areas)).toEqual(['C']);
    expect(nextAreaPath(['C', 'X'], areas)).toEqual(['C']);
  });

  it('is idle until someone touches the screen, then again after the idle time', () => {
    expect(isIdle(60, 1_000_000)).toBe(true);
    noteInput(1_000_000);
    expect(isIdle(60, 1_030_000)).toBe(false);
    expect(isIdle(60, 1_060_000)).toBe(true);
  });
});
