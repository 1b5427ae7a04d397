// The web process's semantic-layer engine, created on first use: Cube's REST API over the
// model in semantic-layer/model (YINLING_MODEL_DIR overrides it), on the shared pool, with
// tokens signed by CUBEJS_API_SECRET. Server code can use engine.load(query, securityContext).
// Whenever the engine returns unmasked personal data (a token of an auditor/admin with
// `unmask: true`) it first calls onPersonalData, which writes an audit_log entry
// (scope.ts personalDataAuditor); server code that logs in its own words passes its own hook.
import path from 'node:path';
import { env } from '$env/dynamic/private';
import { ROOT } from '../../../core/config.ts';
import { createSemanticEngine, errorResponse, type SemanticEngine } from '../../../semantic-layer/engine/index.ts';
import { db } from './db.ts';
import { personalDataAuditor } from './scope.ts';

let engine: SemanticEngine | undefined;

export function semanticEngine(): SemanticEngine {
  if (!engine) {
    const apiSecret = env.CUBEJS_API_SECRET;
    if (!apiSecret) throw new Error('CUBEJS_API_SECRET is not set: the semantic layer cannot verify API tokens without it.');
    engine = createSemanticEngine({
      // `yinling serve` sets YINLING_MODEL_DIR (jobs/web/http-server.ts); ROOT is right only unbundled (vite dev).
      modelDir: env.YINLING_MODEL_DIR || path.join(ROOT, 'semantic-layer', 'model'),
      pool: db(),
      apiSecret,
      onPersonalData: personalDataAuditor(db())
    });
  }
  return engine;
}

/** What the /cubejs-api/v1/[...path] route answers; configuration errors become a bare 500. */
export async function semanticResponse(request: Request): Promise<Response> {
  let e: SemanticEngine;
  try {
    e = semanticEngine();
  } catch (err) {
    return errorResponse(err, (m) => console.error(`[semantic] ${m}`));
  }
  return e.handle(request);
}
