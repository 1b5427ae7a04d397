// One error vocabulary. An error a caller can act on is an HttpError: its status, a message for
// people, and a stable code for programs — whoever throws it (the web app, the semantic engine, a
// service the CLI also calls). The CLI's own mistakes are a UsageError (exit 2). Anything else is a
// fault of ours: errorBody() logs it under a reference and tells the caller only that reference.
// Argument order is always (status, message, code).

const DEFAULT_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  422: 'invalid',
  429: 'too_many_requests',
  503: 'unavailable'
};

export class HttpError extends Error {
  readonly code: string;
  constructor(
    readonly status: number,
    message: string,
    code?: string
  ) {
    super(message);
    this.name = 'HttpError';
    this.code = code ?? DEFAULT_CODES[status] ?? 'error';
  }
}

/** A malformed or invalid request; `type` is Cube's name for it ({type: "UserError", error}). */
export const badRequest = (message: string, code = 'bad_request') => new HttpError(400, message, code);
export const forbidden = (message: string, code = 'forbidden') => new HttpError(403, message, code);
export const notFound = (message: string, code = 'not_found') => new HttpError(404, message, code);

/** Wrong command-line arguments or configuration: the CLI says so with the usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The status, message and code of an error meant for the caller, or null for a fault of ours.
 * Besides HttpError this accepts the same shape from modules that cannot import core (the area and
 * personal-data rules are shared with a stand-alone Cube deployment: they carry `status` 4xx), and
 * PostgreSQL's "invalid value" errors (class 22), which only a caller's input can cause.
 */
export function callerError(e: unknown): { status: number; message: string; code: string } | null {
  if (e instanceof HttpError) return { status: e.status, message: e.message, code: e.code };
  const x = e as { status?: unknown; code?: unknown; message?: unknown } | null;
  if (x && typeof x.status === 'number' && x.status >= 400 && x.status < 500 && typeof x.message === 'string') {
    return { status: x.status, message: x.message, code: typeof x.code === 'string' ? x.code : (DEFAULT_CODES[x.status] ?? 'error') };
  }
  if (x && typeof x.code === 'string' && /^22/.test(x.code) && typeof x.message === 'string') {
    return { status: 400, message: `Invalid value in query: ${x.message}`, code: 'invalid_value' };
  }
  return null;
}

/**
 * The one mapping of any error to an HTTP answer. The body is `{error, code}` — plus
 * `type: "UserError"` on a 400, which is Cube's REST shape, so Cube clients and ours read the same
 * thing. A fault of ours is logged with a short reference and answered as a bare 500; a statement
 * timeout is a 500 "Query timeout" (Cube's words). Never a stack trace or SQL internals.
 */
export function errorBody(
  e: unknown,
  log: (m: string) => void = (m) => console.error(m)
): { status: number; body: { error: string; code: string; type?: string } } {
  const c = callerError(e);
  if (c)
    return {
      status: c.status,
      body: c.status === 400 ? { type: 'UserError', error: c.message, code: c.code } : { error: c.message, code: c.code }
    };
  if ((e as { code?: unknown } | null)?.code === '57014') return { status: 500, body: { error: 'Query timeout', code: 'timeout' } };
  const ref = Math.random().toString(36).slice(2, 10);
  log(`error ${ref}: ${e instanceof Error ? `${e.name}: ${e.message}${e.stack ? `\n${e.stack}` : ''}` : String(e)}`);
  return { status: 500, body: { error: `Internal Server Error (ref ${ref})`, code: 'internal' } };
}

/** errorBody as a JSON Response. */
export function errorResponse(e: unknown, log?: (m: string) => void): Response {
  const { status, body } = errorBody(e, log);
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }
  });
}
