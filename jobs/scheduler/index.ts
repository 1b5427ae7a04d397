// The scheduler process: node-cron tasks (Asia/Shanghai) that run jobs through the registry.
// noOverlap keeps one process from stacking runs; the advisory lock in runJob keeps two
// scheduler processes from running the same job at once.
import cron from 'node-cron';
import type { Config } from '../../core/config.ts';
import { UsageError } from '../../core/errors.ts';
import type { Pool } from '../../core/db/pool.ts';
import { runWithDependents } from '../registry.ts';

export interface ScheduleEntry {
  job: string;
  expression: string;
}

export function schedulesFrom(config: Config): ScheduleEntry[] {
  const entries = [
    { job: 'ingest', expression: config.schedules.ingest },
    { job: 'all', expression: config.schedules.engines },
    { job: 'payroll-check', expression: config.schedules.payrollCheck }
  ];
  for (const e of entries) {
    if (!cron.validate(e.expression)) throw new UsageError(`the schedule for ${e.job} is not a valid cron expression: "${e.expression}"`);
  }
  return entries;
}

export function startScheduler(
  pool: Pool,
  config: Config,
  log: (m: string) => void,
  entries: ScheduleEntry[] = schedulesFrom(config)
): { stop(): Promise<void> } {
  // the runs in progress: stopping waits for them, so the pool is never ended under a running job (node-cron's
  // stop() only clears its timers)
  const running = new Set<Promise<void>>();
  let stopping = false;
  const tasks = entries.map((entry) =>
    cron.schedule(
      entry.expression,
      async () => {
        if (stopping) return;
        const run = (async () => {
          try {
            const results = await runWithDependents(pool, entry.job, { config, trigger: 'schedule', log });
            const changed = results.some((r) => r.counts.read > 0 || r.status !== 'ok');
            if (changed) log(`scheduler: ${entry.job} ${results.map((r) => r.status).join(' → ')}`);
          } catch (e) {
            log(`scheduler: ${entry.job} could not run: ${e instanceof Error ? e.message : e}`);
          }
        })();
        running.add(run);
        await run.finally(() => running.delete(run));
      },
      { name: entry.job, timezone: 'Asia/Shanghai', noOverlap: true }
    )
  );
  log(`scheduler: ${entries.map((e) => `${e.job} "${e.expression}"`).join(', ')} (Asia/Shanghai)`);
  return {
    async stop() {
      stopping = true;
      await Promise.all(tasks.map((t) => t.stop()));
      await Promise.all(running);
    }
  };
}
