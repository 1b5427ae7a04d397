// Request-scoped state set by hooks.server.ts `handle` (dashboard/lib/server/session.ts):
// `user` — the signed-in staff user (role and region scope), or null;
// `kiosk` — the wall screen's kiosk token (read-only, scoped, privacy mode), or null;
// `resident` — on /portal only, the signed-in resident, or null.
// A staff session wins over a kiosk token. Resident and staff sessions never stand in for each other:
// /portal reads only the resident cookie, every other path only the staff and kiosk ones.
import type { KioskToken, StaffUser } from '../core/accounts.ts';
import type { Resident } from '../core/residents.ts';

declare global {
  namespace App {
    interface Error {
      message: string;
      id?: string;
      /** What was refused or not found, for the error page to say the real reason (core/errors.ts codes:
       *  outside_scope, unmask_forbidden, privacy…). */
      code?: string;
    }
    interface Locals {
      user: StaffUser | null;
      kiosk: KioskToken | null;
      resident: Resident | null;
    }
  }
}
export {};
