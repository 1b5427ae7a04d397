// Errors the engine answers with, in Cube's shapes: 400 {type: "UserError", error},
// 403 {error}. Anything else becomes a 500 {error: "Internal Server Error"} without a stack.

/** A malformed or invalid query (Cube: 400 `{type: "UserError", error}`). */
export class UserError extends Error {
  readonly type = 'UserError';
  readonly status = 400;
}

/** Missing/invalid credentials or an area the caller may not read (403 `{error}`). */
export class ForbiddenError extends Error {
  readonly type = 'Forbidden';
  readonly status = 403;
}

/** The data model itself is wrong (raised by loadModel; never reaches a client as such). */
export class ModelError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid data model:\n  - ${problems.join('\n  - ')}`);
  }
}
