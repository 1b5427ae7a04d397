// Kiosk cycling for an unattended wall screen (?kiosk=1): when nobody has touched the screen for
// `idleSeconds`, every `cycleSeconds` the next family is highlighted (and its headline indicator
// shown on the map); after the last family the screen moves to the next area of the cycle — the
// scope root, then each of its children in turn, then the root again. Pure decisions here; the
// cockpit owns the timers. The last input time is module state so it survives navigation.
import type { Family } from '$lib/i18n';

/** Viewports this wide or narrower (CSS px) get the phone layout of the cockpit, not the wall. */
export const PHONE_MAX_PX = 700;

export const HEADLINE: Record<Family, string> = { P: 'P01', A: 'A01', C: 'C01', R: 'R06', S: 'S01', H: 'H01' };

let lastInput = 0; // 0 = never: a freshly opened wall screen starts cycling at once

export function noteInput(now = Date.now()): void {
  lastInput = now;
}

export function isIdle(idleSeconds: number, now = Date.now()): boolean {
  return now - lastInput >= idleSeconds * 1000;
}

/** The areas a kiosk cycles through, given the root and its children: root first. */
export function cycleAreas(root: string, children: string[]): string[] {
  return [root, ...children];
}

/**
 * After the last family of the current area: the next area's path (codes from the root).
 * `current` is the current path; `areas` the cycle ([root, ...children]).
 */
export function nextAreaPath(current: string[], areas: string[]): string[] {
  const root = areas[0];
  if (!root) return current;
  const here = current[current.length - 1];
  const i = areas.indexOf(here);
  if (i < 0 || i === areas.length - 1) return [root];
  return [root, areas[i + 1]];
}

const STORE = 'yinling:kiosk-cycle';

export function rememberCycle(root: string, children: string[]): void {
  try {
    sessionStorage.setItem(STORE, JSON.stringify(cycleAreas(root, children)));
  } catch {
    /* private mode: cycle restarts at root */
  }
}

export function recallCycle(root: string): string[] {
  try {
    const v = JSON.parse(sessionStorage.getItem(STORE) ?? '[]');
    return Array.isArray(v) && v[0] === root ? v.map(String) : [root];
  } catch {
    return [root];
  }
}
