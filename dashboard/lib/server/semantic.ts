// The web process's semantic-layer engine, created on first use: Cube's REST API over the
// model in semantic-layer/model (YINLING_MODEL_DIR overrides it), on the shared pool, with
// tokens signed by CUBEJS_API_SECRET. Server code can use engine.load(query, securityContext).
import path from 'node:path';
import { env } from '$env/dynamic/private';
import { ROOT } from '../../../jobs/config.ts';
import { createSemanticEngine, errorResponse, type SemanticEngine } from '../../../semantic-layer/engine/index.ts';
import { db } from './db.ts';

let engine: SemanticEngine | undefined;

export function semanticEngine(): SemanticEngine {
  if (!engine) {
    const apiSecret = env.CUBEJS_API_SECRET;
    if (!apiSecret) throw new Error('CUBEJS_API_SECRET is not set: the semantic layer cannot verify API tokens without it.');
    engine = createSemanticEngine({
      modelDir: env.YINLING_MODEL_DIR || path.join(ROOT, 'semantic-layer', 'model'),
      pool: db(),
      apiSecret
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
