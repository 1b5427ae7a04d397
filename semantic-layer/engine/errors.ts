// The engine's errors are the project's one vocabulary (core/errors.ts): a bad query is a 400
// answered in Cube's shape {type: "UserError", error}, a refused caller a 403 {error}. Anything else
// becomes a bare 500 without a stack (core/errors.ts errorBody).
import { HttpError } from '../../core/errors.ts';

/** A malformed or invalid query (Cube: 400 `{type: "UserError", error}`). */
export class UserError extends HttpError {
  constructor(message: string) {
    super(400, message, 'UserError');
  }
}

/** Missing/invalid credentials or an area the caller may not read (403 `{error}`). */
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, message, 'forbidden');
  }
}

/** The data model itself is wrong (raised by loadModel; never reaches a client as such). */
export class ModelError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid data model:\n  - ${problems.join('\n  - ')}`);
  }
}
