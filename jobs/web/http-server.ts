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
import { provideCheckRunner } from '../../core/workflow/payroll.ts';
import { runPayrollCheck } from '../engines/payroll-check.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * Headers every response carries, static files included (adapter-node serves those before the
 * SvelteKit hook runs, so the hook's headers never reached them): no MIME sniffing, no framing by
 * other sites, and HSTS once the site is reached over https (a TLS proxy says so in X-Forwarded-Proto).
 * The hook may still set its own values; these are defaults set before the handler writes.
 */
export function setBaseHeaders(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'SAMEORIGIN');
  res.setHeader('referrer-policy', 'same-origin');
  const proto = String(req.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    .trim();
  if (proto === 'https') res.setHeader('strict-transport-security', 'max-age=31536000');
}

export async function createWebServer(buildDir: string): Promise<http.Server> {
  process.env.PROTOCOL_HEADER ||= 'x-forwarded-proto';
  process.env.YINLING_MODEL_DIR ||= path.join(ROOT, 'semantic-layer', 'model');
  // The workbench's "run the check" button (core/workflow/payroll.ts requestCheck): the check is a job, run
  // here in the process that serves the app, as the signed-in auditor prepares it.
  provideCheckRunner(async (pool, o) => ({ run_no: (await runPayrollCheck(pool, o)).run.run_no }));
  const { handler } = (await import(pathToFileURL(path.join(buildDir, 'handler.js')).href)) as { handler: Handler };
  const server = http.createServer((req, res) => {
    if (!req.headers['x-forwarded-proto']) req.headers['x-forwarded-proto'] = 'http';
    setBaseHeaders(req, res);
    handler(req, res);
  });
  server.keepAliveTimeout = 5000;
  return server;
}
