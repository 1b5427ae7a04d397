// A TCP port nobody listens on right now (the OS picks it), for the scratch PostgreSQL and web
// servers of tests and benchmarks. Shared by tests/, dashboard/e2e/ and bench/.
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
