// Cube configuration for online deployments: real Cube (@cubejs-backend/server 1.7) serving
// the same model files as the embedded engine, with the same area rule — checkAuth verifies the
// token (HS256, CUBEJS_API_SECRET) and its region claims, queryRewrite adds the region filters
// from engine/region-rule.js, the module the embedded engine uses. Personal data
// (engine/personal-rule.js): Cube cannot mask result values in queryRewrite, so a query naming
// a personal member (meta.personal) anywhere is refused (403) unless the security context may
// read it unmasked (role auditor/admin with `unmask: true`); such queries are logged. See README.md.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jwtVerify } from 'jose';
import { parse as parseYaml } from 'yaml';
import { applyRegionRule, callerScope, loadRegionScopes, RegionAccessError } from './engine/region-rule.js';
import {
  applyPersonalRule,
  loadPersonalMembers,
  mayReadPersonal,
  PersonalDataError,
  personalMembersTouched
} from './engine/personal-rule.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const modelDir = process.env.YINLING_MODEL_DIR || path.join(here, 'model');

let scopesPromise;
const regionScopes = () => (scopesPromise ??= loadRegionScopes(modelDir, parseYaml));
let personalPromise;
const personalMembers = () => (personalPromise ??= loadPersonalMembers(modelDir, parseYaml));

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

/** Where cube.js reports unmasked personal-data queries (Cube has no result hook); replaceable in tests. */
export const personalDataLog = {
  write: (entry) => console.log(JSON.stringify({ event: 'personal_data_query', ...entry }))
};

export async function queryRewrite(query, { securityContext }) {
  try {
    const personal = await personalMembers();
    applyPersonalRule(query, securityContext, personal);
    const rewritten = applyRegionRule(query, securityContext, await regionScopes());
    if (mayReadPersonal(securityContext)) {
      const members = personalMembersTouched(query, personal).selected;
      if (members.length) {
        personalDataLog.write({
          user: securityContext.user ?? null,
          role: securityContext.role,
          region_code: securityContext.region_code,
          members
        });
      }
    }
    return rewritten;
  } catch (e) {
    if (e instanceof RegionAccessError || e instanceof PersonalDataError) throw await forbidden(e.message);
    throw e;
  }
}

export default {
  schemaPath: 'model',
  checkAuth,
  queryRewrite
};
