// Serves a built copy of the web app for browser tests and the benchmark:
//   node --import tsx dashboard/e2e/support/serve.ts <build-dir>   (env: DATABASE_URL, PORT, CUBEJS_API_SECRET…)
// Unlike `yinling serve` it takes the build directory as an argument, so tests run against a
// snapshot that other people's rebuilds cannot change under them. Plain HTTP: the request's
// protocol is taken from X-Forwarded-Proto (set to http when absent), so CSRF origin checks and
// the Secure cookie flag see the real scheme.
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = path.resolve(process.argv[2] ?? 'build');
process.env.PROTOCOL_HEADER ||= 'x-forwarded-proto';
const port = Number(process.env.PORT ?? 3000);
const { handler } = await import(pathToFileURL(path.join(dir, 'handler.js')).href);

const server = http.createServer((req, res) => {
  if (!req.headers['x-forwarded-proto']) req.headers['x-forwarded-proto'] = 'http';
  handler(req, res);
});
server.keepAliveTimeout = 5000;
server.listen(port, '127.0.0.1', () => console.log(`[e2e-serve] listening on http://127.0.0.1:${port}/ (${dir})`));
const stop = () => { server.close(() => process.exit(0)); server.closeAllConnections(); setTimeout(() => process.exit(0), 3000).unref(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
