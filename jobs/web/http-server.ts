// The HTTP server around the SvelteKit build (adapter-node's handler), shared by `yinling serve`
// and the browser tests' server so both run exactly the same code.
//
// Why the protocol header: without ORIGIN, adapter-node takes the request's scheme from
// PROTOCOL_HEADER and otherwise assumes https — on plain http that makes every sign-in POST fail
// SvelteKit's CSRF origin check ("Cross-site POST form submissions are forbidden"). We read
// X-Forwarded-Proto (a TLS-terminating proxy sets it to https) and default it to http when the
// request came straight to us. Set ORIGIN to pin the public address instead.
//
// Why the model directory: inside the bundled build, import.meta.url points into build/server/
// chunks, so the web code cannot find semantic-layer/model by itself; this unbundled module can.
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../core/config.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export async function createWebServer(buildDir: string): Promise<http.Server> {
  process.env.PROTOCOL_HEADER ||= 'x-forwarded-proto';
  process.env.YINLING_MODEL_DIR ||= path.join(ROOT, 'semantic-layer', 'model');
  const { handler } = (await import(pathToFileURL(path.join(buildDir, 'handler.js')).href)) as { handler: Handler };
  const server = http.createServer((req, res) => {
    if (!req.headers['x-forwarded-proto']) req.headers['x-forwarded-proto'] = 'http';
    handler(req, res);
  });
  server.keepAliveTimeout = 5000;
  return server;
}
