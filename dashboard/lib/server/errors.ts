// An error the API answers with its status and message (no SvelteKit imports: used by server modules tests import too).
export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}
