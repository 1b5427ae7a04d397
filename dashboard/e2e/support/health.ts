// Wait until a server the tests or benchmarks started answers /healthz: the one loop for every
// such start (browser tests, `yinling serve` and `yinling up` tests, the screen benchmark).
import type { ChildProcess } from 'node:child_process';

/**
 * Poll `${url}/healthz` until it answers 200. Fails with `what` and the process's output when the
 * process exits first or `ms` pass.
 */
export async function untilHealthy(
  url: string,
  what: string,
  opts: { child?: ChildProcess; output?: () => string; ms?: number } = {}
): Promise<void> {
  const deadline = Date.now() + (opts.ms ?? 60_000);
  const output = () => (opts.output ? `:\n${opts.output()}` : '');
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* not up yet */
    }
    if (opts.child && opts.child.exitCode !== null)
      throw new Error(`${what} exited (${opts.child.exitCode}) before answering /healthz${output()}`);
    if (Date.now() > deadline) throw new Error(`${what} did not start${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
