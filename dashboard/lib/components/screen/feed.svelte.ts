// The screen's live data: polls the API every `refreshSeconds` and swaps the new responses into
// reactive state, so values update in place (no page reload). Built for days unattended:
//   - a failed poll keeps the last values, flags `reconnecting` and retries with backoff
//     (2 s, 4 s, 8 s … capped at the refresh interval); the first success catches everything up;
//   - 401 (session ended, kiosk token revoked) sends the browser to the sign-in page;
//   - state is replaced, never appended (the alert list is capped by the API's limit), in-flight
//     requests are aborted on dispose, and the one timer is cleared — memory stays flat;
//   - a response identical to the previous one (byte for byte) keeps the previous object, so
//     nothing re-renders: feeds land every few minutes, most refreshes bring no news, and a wall
//     screen's small CPU should not redraw six charts and a map to show the same numbers.
import { HttpError } from '../../../../core/errors.ts';
import type { AlertRow, GeoCollection, IndicatorsResponse, RegionsResponse } from './types.ts';

export type Connection = 'ok' | 'reconnecting';

export interface FeedOptions {
  region: string;
  /** A fixed period (from ?period=); null follows the newest period. */
  period: string | null;
  refreshSeconds: number;
  initial: IndicatorsResponse;
  /** What the server already fetched for the first paint (any of it may be missing). */
  first?: { geo?: GeoCollection | null; regions?: RegionsResponse | null; alerts?: AlertRow[] | null };
  indicator: string;
  alertLimit?: number;
  /** A public screen: the ticker asks for counts per rule and area, never a row about a person. */
  privacy?: boolean;
  /** Injected for tests; defaults to the browser's fetch. */
  fetch?: typeof fetch;
  onUnauthorized?: () => void;
}

/** A changed board keeps the previous object of every indicator whose content is the same, so
 *  only the tiles and charts of the indicators that moved redraw (Svelte compares by identity). */
export function shareUnchanged(next: IndicatorsResponse, prev: IndicatorsResponse): IndicatorsResponse {
  const old = new Map(prev.indicators.map((i) => [i.code, i]));
  next.indicators = next.indicators.map((i) => {
    const o = old.get(i.code);
    return o && JSON.stringify(o) === JSON.stringify(i) ? o : i;
  });
  return next;
}

const GEO_CACHE_MAX = 6;
const geoCache = new Map<string, GeoCollection>();

export class ScreenFeed {
  data = $state.raw<IndicatorsResponse>() as IndicatorsResponse;
  alerts = $state.raw<AlertRow[]>([]);
  /** Alert ids that arrived in the latest poll (for a highlight). */
  freshAlerts = $state.raw<Set<string>>(new Set());
  regions = $state.raw<RegionsResponse | null>(null);
  geo = $state.raw<GeoCollection | null>(null);
  indicator = $state('P01');
  connection = $state<Connection>('ok');
  failures = $state(0);
  lastSuccess = $state(Date.now());
  /** Completed polls since start (tests and the benchmark watch it). */
  polls = $state(0);

  #opts: FeedOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abort: AbortController | undefined;
  #disposed = false;
  #seenAlerts = new Set<string>();
  #fetch: typeof fetch;
  /** The last body and parsed value per endpoint kind (identical bodies reuse the value). */
  #last = new Map<string, { text: string; value: unknown }>();

  constructor(opts: FeedOptions) {
    this.#opts = opts;
    this.data = opts.initial;
    this.indicator = opts.indicator;
    if (opts.first?.geo) {
      this.geo = opts.first.geo;
      geoCache.set(opts.region, opts.first.geo);
    }
    if (opts.first?.regions && opts.first.regions.indicator === opts.indicator) this.regions = opts.first.regions;
    if (opts.first?.alerts) {
      this.alerts = opts.first.alerts;
      this.#seenAlerts = new Set(opts.first.alerts.map((a) => String(a.alert_id)));
    }
    this.#fetch = opts.fetch ?? ((...a) => fetch(...a));
  }

  get refreshMs(): number {
    return Math.max(1, this.#opts.refreshSeconds) * 1000;
  }

  /** Load what the first paint did not carry (alerts, the map's regions and polygons), then poll. */
  start(): void {
    const f = this.#opts.first;
    const complete = !!f?.alerts && (!this.data.region.children.length || (!!this.geo && !!this.regions));
    if (complete) this.#schedule(this.refreshMs);
    else void this.#poll(true);
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#abort?.abort();
  }

  /** Show another indicator on the map and ranked bars: fetch its regions now. */
  select(code: string): void {
    if (code === this.indicator) return;
    this.indicator = code;
    void this.#loadRegions().catch(() => {
      /* the next poll retries */
    });
  }

  /** GET a JSON endpoint. With `kind`, a body identical to the last one of that kind returns the
   *  very same object as before (callers skip the state update, so nothing re-renders). */
  async #json<T>(url: string, signal?: AbortSignal, kind?: string): Promise<T> {
    const res = await this.#fetch(url, { signal, headers: { accept: 'application/json' }, cache: 'no-store' });
    if (res.status === 401) {
      this.#opts.onUnauthorized?.();
      throw new HttpError(401, `401 ${url}`);
    }
    if (!res.ok) throw new HttpError(res.status, `${res.status} ${url}`);
    const text = await res.text();
    if (!kind) return JSON.parse(text) as T;
    const last = this.#last.get(kind);
    if (last && last.text === text) return last.value as T;
    const value = JSON.parse(text) as T;
    this.#last.set(kind, { text, value });
    return value;
  }

  #query(extra: Record<string, string> = {}): string {
    const q = new URLSearchParams({ region: this.#opts.region, ...extra });
    if (this.#opts.period) q.set('period', this.#opts.period);
    return q.toString();
  }

  async #loadRegions(signal?: AbortSignal): Promise<void> {
    const code = this.indicator;
    if (!this.data.region.children.length) {
      this.regions = null;
      return;
    }
    const r = await this.#json<RegionsResponse>(`/api/indicators/${encodeURIComponent(code)}/regions?${this.#query()}`, signal, 'regions');
    if (!this.#disposed && code === this.indicator && r !== this.regions) this.regions = r;
  }

  async #loadGeo(signal?: AbortSignal): Promise<void> {
    const region = this.#opts.region;
    if (!this.data.region.children.length) {
      this.geo = null;
      return;
    }
    const cached = geoCache.get(region);
    if (cached) {
      this.geo = cached;
      return;
    }
    const g = await this.#json<GeoCollection>(`/api/geo?region=${encodeURIComponent(region)}`, signal);
    geoCache.set(region, g);
    while (geoCache.size > GEO_CACHE_MAX) geoCache.delete(geoCache.keys().next().value as string);
    if (!this.#disposed) this.geo = g;
  }

  async #loadAlerts(signal?: AbortSignal): Promise<void> {
    const limit = String(this.#opts.alertLimit ?? 20);
    const r = await this.#json<{ rows: AlertRow[] }>(
      `/api/alerts/recent?${new URLSearchParams({ region: this.#opts.region, limit, ...(this.#opts.privacy ? { privacy: '1' } : {}) })}`,
      signal,
      'alerts'
    );
    if (this.#disposed) return;
    if (r.rows === this.alerts) {
      // Nothing new: the highlight of the previous poll's arrivals ends.
      if (this.freshAlerts.size) this.freshAlerts = new Set();
      return;
    }
    const ids = r.rows.map((a) => String(a.alert_id));
    // First load: nothing is "new". Afterwards: ids not seen before are highlighted.
    const fresh = this.#seenAlerts.size ? new Set(ids.filter((id) => !this.#seenAlerts.has(id))) : new Set<string>();
    this.#seenAlerts = new Set(ids); // replaced, not grown
    this.freshAlerts = fresh;
    this.alerts = r.rows;
  }

  async #poll(first = false): Promise<void> {
    if (this.#disposed) return;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    const timeout = setTimeout(() => abort.abort(), Math.max(10_000, Math.min(this.refreshMs, 30_000)));
    try {
      const tasks: Promise<unknown>[] = [this.#loadAlerts(abort.signal), this.#loadRegions(abort.signal)];
      if (!this.geo) tasks.push(this.#loadGeo(abort.signal));
      if (!first) {
        tasks.push(
          this.#json<IndicatorsResponse>(`/api/indicators?${this.#query()}`, abort.signal, 'indicators').then((d) => {
            if (!this.#disposed && d !== this.data) this.data = shareUnchanged(d, this.data);
          })
        );
      }
      await Promise.all(tasks);
      if (this.#disposed) return;
      this.connection = 'ok';
      this.failures = 0;
      this.lastSuccess = Date.now();
      this.polls += 1;
      this.#schedule(this.refreshMs);
    } catch (e) {
      if (this.#disposed) return;
      if (e instanceof HttpError && e.status === 401) return; // navigating to sign-in
      this.failures += 1;
      this.connection = 'reconnecting';
      this.#schedule(Math.min(this.refreshMs, 1000 * 2 ** Math.min(this.failures, 6)));
    } finally {
      clearTimeout(timeout);
    }
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    if (!this.#disposed) this.#timer = setTimeout(() => void this.#poll(), ms);
  }
}
