// Request-scoped state set by hooks.server.ts `handle` (dashboard/lib/server/session.ts):
// `user` — the signed-in staff user (role and region scope), or null;
// `kiosk` — the wall screen's kiosk token (read-only, scoped, privacy mode), or null.
// At most one of them is set; a staff session wins over a kiosk token.
import type { KioskToken, StaffUser } from '$lib/server/accounts';

declare global {
  namespace App {
    interface Error { message: string; id?: string }
    interface Locals {
      user: StaffUser | null;
      kiosk: KioskToken | null;
    }
  }
}
export {};
