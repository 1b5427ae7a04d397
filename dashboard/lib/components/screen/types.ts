// Types of the screen's components. The API's shapes are defined once, in $lib/api-types.ts
// (the server returns exactly those), and re-exported here for the components.
export type * from '../../api-types.ts';

/** Who is looking, as the (screen) layout tells the page. */
export interface Viewer {
  kind: 'staff' | 'kiosk';
  name: string;
  role: 'leader' | 'auditor' | 'staff' | 'admin' | 'kiosk';
  scope: string;
  /** Kiosk tokens with privacy mode: no person-level drill-down. */
  privacy: boolean;
}

/** Display options read from the URL: ?refresh=60&kiosk=1&privacy=1&cycle=15&idle=60&ind=P01&map=3d. */
export interface ScreenOptions {
  refreshSeconds: number;
  kiosk: boolean;
  privacy: boolean;
  cycleSeconds: number;
  idleSeconds: number;
  indicator: string | null;
  map3d: boolean;
  period: string | null;
}
