// Serves a built copy of the web app for browser tests and the benchmark:
//   node --import tsx dashboard/e2e/support/serve.ts <build-dir>   (env: DATABASE_URL, PORT, CUBEJS_API_SECRET…)
// Unlike `yinling serve` it takes the build directory as an argument, so tests run against a
// snapshot that other people's rebuilds cannot change under them. The server itself is the one
// `yinling serve` runs (jobs/web/http-server.ts).
import path from 'node:path';
import { createWebServer } from '../../../jobs/web/http-server.ts';

const dir = path.resolve(process.argv[2] ?? 'build');
const port = Number(process.env.PORT ?? 3000);
const server = await createWebServer(dir);
server.listen(port, '127.0.0.1', () => console.log(`[e2e-serve] listening on http://127.0.0.1:${port}/ (${dir})`));
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
