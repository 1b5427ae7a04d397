// What a group of tiles says as a whole — a family panel's header, the screen's summary. Green
// "all clear" is a claim that every figure was judged and is fine: it needs every status 'ok'. Tiles
// without a fixed limit ('neutral') make it "no alarms"; tiles without data say so, never all clear.
import type { Status } from './api-types.ts';

export interface StatusSummary {
  /** breached: something is warn or critical; clear: all ok; quiet: nothing fired, some not judged;
   *  partial: nothing fired, some without data; no_data: none has data. */
  kind: 'breached' | 'clear' | 'quiet' | 'partial' | 'no_data';
  critical: number;
  warn: number;
  noData: number;
}

export function summarize(statuses: readonly Status[]): StatusSummary {
  const n = (s: Status) => statuses.filter((x) => x === s).length;
  const critical = n('critical'),
    warn = n('warn'),
    noData = n('no_data');
  const kind: StatusSummary['kind'] =
    critical + warn > 0
      ? 'breached'
      : noData === statuses.length
        ? 'no_data'
        : noData > 0
          ? 'partial'
          : statuses.every((s) => s === 'ok')
            ? 'clear'
            : 'quiet';
  return { kind, critical, warn, noData };
}
