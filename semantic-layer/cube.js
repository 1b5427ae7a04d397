// Cube configuration for online deployments: real Cube (@cubejs-backend/server 1.7) serving
// the same model files as the embedded engine, with the same area rule — checkAuth verifies the
// token (HS256, CUBEJS_API_SECRET) and its region claims, queryRewrite adds the region filters
// from engine/region-rule.js, the module the embedded engine uses. See README.md.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jwtVerify } from 'jose';
import { parse as parseYaml } from 'yaml';
import { applyRegionRule, callerScope, loadRegionScopes, RegionAccessError } from './engine/region-rule.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const modelDir = process.env.YINLING_MODEL_DIR || path.join(here, 'model');

let scopesPromise;
const regionScopes = () => (scopesPromise ??= loadRegionScopes(modelDir, parseYaml));

/** Cube answers a CubejsHandlerError with its status (403 here); anything else would be a 500. */
async function forbidden(message) {
  try {
    const { CubejsHandlerError } = await import('@cubejs-backend/api-gateway');
    return new CubejsHandlerError(403, 'Forbidden', message);
  } catch {
    const e = new Error(message);
    e.status = 403;
    return e;
  }
}

export async function checkAuth(req, auth) {
  const token = typeof auth === 'string' ? auth.replace(/^Bearer\s+/i, '').trim() : '';
  if (!token) throw await forbidden("Authorization header isn't set");
  let payload;
  try {
    const secret = new TextEncoder().encode(process.env.CUBEJS_API_SECRET || '');
    ({ payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] }));
  } catch {
    throw await forbidden('Invalid token');
  }
  try {
    callerScope(payload);
  } catch (e) {
    throw await forbidden(e.message);
  }
  if (req) req.securityContext = payload;
  return { security_context: payload };
}

export async function queryRewrite(query, { securityContext }) {
  try {
    return applyRegionRule(query, securityContext, await regionScopes());
  } catch (e) {
    if (e instanceof RegionAccessError) throw await forbidden(e.message);
    throw e;
  }
}

export default {
  schemaPath: 'model',
  checkAuth,
  queryRewrite
};
