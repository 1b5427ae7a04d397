// The HTTP server around the SvelteKit build (adapter-node's handler), shared by `yinling serve`
// and the browser tests' server so both run exactly the same code.
//
// Why the protocol header: without ORIGIN, adapter-node takes the request's scheme from
// PROTOCOL_HEADER and otherwise assumes https — on plain http that makes every sign-in POST fail
// SvelteKit's CSRF origin check ("Cross-site POST form submissions are forbidden"). We read
// X-Forwarded-Proto (a TLS-terminating proxy sets it to https) and default it to http when the
// request came straight to us. Set ORIGIN to pin the public address instead.
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export async function createWebServer(buildDir: string): Promise<http.Server> {
  process.env.PROTOCOL_HEADER ||= 'x-forwarded-proto';
  const { handler } = (await import(pathToFileURL(path.join(buildDir, 'handler.js')).href)) as { handler: Handler };
  const server = http.createServer((req, res) => {
    if (!req.headers['x-forwarded-proto']) req.headers['x-forwarded-proto'] = 'http';
    handler(req, res);
  });
  server.keepAliveTimeout = 5000;
  return server;
}
