// The single choke point for every request: errors become a plain message with an id the
// operator can find in the log — never a stack trace in a response.
import type { HandleServerError } from '@sveltejs/kit';
import { randomUUID } from 'node:crypto';

export const handleError: HandleServerError = ({ error, status, message }) => {
  const id = randomUUID().slice(0, 8);
  if (status >= 500) console.error(`[web] error ${id}:`, error);
  return { message: status >= 500 ? `服务器内部错误 Internal error (ref ${id})` : message, id };
};
