// The auditors' workbench on the command line (issue 15 §13): `yinling alerts`, `yinling recovery`,
// `yinling audit`. The same service functions as the web app (core/workflow/*), so the same rules and
// the same audit events; --by names the staff account acting (an auditor or admin, checked by the
// service). Exit codes: 0 done, 1 refused or failed (one line: the service's message), 2 bad usage.
import os from 'node:os';
import type { Config } from '../../core/config.ts';
import { openDatabase } from '../../core/db/connect.ts';
import type { Pool } from '../../core/db/pool.ts';
import { audit } from '../../core/audit.ts';
import { maskIdNumber } from '../../core/domain/masking.ts';
import { shanghaiIso } from '../../core/time.ts';
import {
  ALERT_ACTIONS,
  PROPOSED_ACTIONS,
  assignAlert,
  transitionAlert,
  type AlertAction,
  type ProposedAction,
  type WorkbenchActor
} from '../../core/workflow/alerts.ts';
import { RECOVERY_METHODS, recordRecovery, type RecoveryMethod } from '../../core/workflow/recovery.ts';
import { verifyAuditChain } from '../../core/workflow/audit-chain.ts';
import { exportDataset } from '../exports.ts';
import { oneOf, parse, UsageError } from './args.ts';

async function withDb<T>(config: Config, fn: (pool: Pool) => Promise<T>): Promise<T> {
  // quiet: stderr carries only the command's own line (scripts read it)
  // as the application role, like the web server's workbench: audit_log is append-only for it by privileges
  const db = await openDatabase({ config, migrate: true, as: 'app', log: () => {} });
  try {
    return await fn(db.pool);
  } finally {
    await db.close();
  }
}

/** The staff account acting: its stored role (the service checks it is an auditor or admin). */
async function actorFor(pool: Pool, by: string | undefined): Promise<WorkbenchActor> {
  if (!by) throw new UsageError('--by USER is required: the auditor or admin acting');
  const r = await pool.query(`SELECT role FROM staff_users WHERE username = $1`, [by]);
  return { user: by, role: r.rows[0]?.role ?? 'none', ip: `cli:${os.userInfo().username}` };
}

function alertIdArg(v: string | undefined): number {
  if (!v || !/^\d+$/.test(v)) throw new UsageError(`an alert id is a number, got "${v ?? ''}"`);
  return Number(v);
}

function intOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a whole number, got "${v}"`);
  return Number(v);
}

async function currentVersion(pool: Pool, alertId: number, given: number | undefined): Promise<number> {
  if (given !== undefined) return given;
  const r = await pool.query(`SELECT version FROM alerts WHERE alert_id = $1`, [alertId]);
  return r.rows[0]?.version ?? 0;
}

const say = (o: unknown, json: boolean, line: string) => console.log(json ? JSON.stringify(o, null, 2) : line);

export const WORKBENCH_COMMANDS = {
  alerts: {
    summary: 'work fund-risk alerts: list, show, assign, transition (the workbench services; --by the auditor acting)',
    usage:
      'list [--status S] [--rule R] [--assignee U] [--limit N] [--json] | show ID [--json] | assign ID (--to USER | --none) --by USER [--version N] | ' +
      'transition ID ACTION --by USER [--version N] [--reason TEXT] [--note TEXT] [--disposition CODE] [--intentional yes|no] [--duplicate-of ID] ' +
      '[--proposed-action suspend|stop|recovery|no_action] [--amount-due 1234.56] [--hold-from YYYY-MM] [--restore-through YYYY-MM]',
    help:
      `Actions: ${ALERT_ACTIONS.join(', ')}.\n` +
      "Without --version the alert's current version is used (a script acting on what it just listed should pass the version it saw).\n" +
      'Four-eyes actions (approve, write_off, waive, restore) need a second auditor: write_off / waive / restore by the first record a proposal.\n' +
      'ID numbers are masked in list and show.',
    async run(argv: string[], config: Config): Promise<number> {
      const [sub, ...rest] = argv;
      const sc = oneOf(sub, ['list', 'show', 'assign', 'transition'] as const, 'subcommand');
      if (sc === 'list') {
        const { values } = parse(rest, {
          status: { type: 'string' },
          rule: { type: 'string' },
          assignee: { type: 'string' },
          limit: { type: 'string' },
          json: { type: 'boolean' }
        });
        const limit = intOption(values.limit as string | undefined, '--limit') ?? 50;
        return withDb(config, async (pool) => {
          const r = await pool.query(
            `SELECT a.alert_id, a.rule, a.status, a.severity, a.amount_at_risk, a.id_number, a.assignee, a.version, s.priority, s.sla_state, s.due_day
               FROM alerts a LEFT JOIN alert_sla s USING (alert_id)
              WHERE ($1::text IS NULL OR a.status = $1) AND ($2::text IS NULL OR a.rule = $2) AND ($3::text IS NULL OR a.assignee = $3)
              ORDER BY a.amount_at_risk DESC, a.alert_id LIMIT $4`,
            [values.status ?? null, values.rule ?? null, values.assignee ?? null, limit]
          );
          const rows = r.rows.map((x) => ({ ...x, alert_id: Number(x.alert_id), id_number: maskIdNumber(x.id_number) }));
          if (values.json) console.log(JSON.stringify(rows, null, 2));
          else
            for (const x of rows)
              console.log(
                [
                  x.alert_id,
                  x.rule,
                  x.status,
                  x.severity,
                  x.amount_at_risk,
                  x.id_number,
                  x.assignee ?? '-',
                  `v${x.version}`,
                  x.priority ?? '-',
                  x.sla_state ?? '-',
                  x.due_day ?? '-'
                ].join('\t')
              );
          return 0;
        });
      }
      if (sc === 'show') {
        const { values, positionals } = parse(rest, { json: { type: 'boolean' } }, true);
        const id = alertIdArg(positionals[0]);
        return withDb(config, async (pool) => {
          const a = await pool.query(
            `SELECT a.alert_id, a.rule, a.status, a.severity, a.amount_at_risk, a.amount_due, a.disposition, a.id_number, a.assignee, a.version,
                    a.updated_by, a.updated_at, array(SELECT to_char(x, 'YYYY-MM') FROM unnest(a.periods) x) AS periods, s.priority, s.sla_state,
                    s.ack_due, s.act_due
               FROM alerts a LEFT JOIN alert_sla s USING (alert_id) WHERE a.alert_id = $1`,
            [id]
          );
          if (!a.rowCount) {
            console.error(`yinling alerts: no alert ${id}`);
            return 1;
          }
          const ev = await pool.query(
            `SELECT at, action, from_status, to_status, actor, actor_role, reason, note FROM alert_transitions WHERE alert_id = $1 ORDER BY at, transition_id`,
            [id]
          );
          const alert = { ...a.rows[0], alert_id: id, id_number: maskIdNumber(a.rows[0].id_number) };
          if (values.json) console.log(JSON.stringify({ alert, events: ev.rows }, null, 2));
          else {
            for (const [k, v] of Object.entries(alert))
              console.log(`${k.padEnd(16)} ${v instanceof Date ? shanghaiIso(v) : Array.isArray(v) ? v.join(';') : (v ?? '-')}`);
            console.log('events:');
            for (const e of ev.rows)
              console.log(
                `  ${shanghaiIso(e.at)}  ${e.action ?? '-'}  ${e.from_status ?? '∅'} → ${e.to_status}  ${e.actor}${e.actor_role ? ` (${e.actor_role})` : ''}${e.reason ? `  ${e.reason}` : ''}`
              );
          }
          return 0;
        });
      }
      if (sc === 'assign') {
        const { values, positionals } = parse(
          rest,
          { to: { type: 'string' }, none: { type: 'boolean' }, by: { type: 'string' }, version: { type: 'string' } },
          true
        );
        const id = alertIdArg(positionals[0]);
        if (!values.to && !values.none) throw new UsageError('assign needs --to USER or --none');
        return withDb(config, async (pool) => {
          const actor = await actorFor(pool, values.by as string | undefined);
          const r = await assignAlert(pool, {
            alertId: id,
            assignee: values.none ? null : (values.to as string),
            actor,
            expectedVersion: await currentVersion(pool, id, intOption(values.version as string | undefined, '--version'))
          });
          console.log(`alert ${id} assigned to ${values.none ? 'nobody' : values.to} (version ${r.version})`);
          return 0;
        });
      }
      const { values, positionals } = parse(
        rest,
        {
          by: { type: 'string' },
          version: { type: 'string' },
          reason: { type: 'string' },
          note: { type: 'string' },
          disposition: { type: 'string' },
          intentional: { type: 'string' },
          'duplicate-of': { type: 'string' },
          'proposed-action': { type: 'string' },
          'amount-due': { type: 'string' },
          'hold-from': { type: 'string' },
          'restore-through': { type: 'string' },
          json: { type: 'boolean' }
        },
        true
      );
      const id = alertIdArg(positionals[0]);
      const action = oneOf(positionals[1], ALERT_ACTIONS, 'ACTION') as AlertAction;
      const intentional =
        values.intentional === undefined
          ? undefined
          : oneOf(values.intentional as string, ['yes', 'no'] as const, '--intentional') === 'yes';
      const proposed =
        values['proposed-action'] === undefined
          ? undefined
          : (oneOf(values['proposed-action'] as string, PROPOSED_ACTIONS, '--proposed-action') as ProposedAction);
      return withDb(config, async (pool) => {
        const actor = await actorFor(pool, values.by as string | undefined);
        const r = await transitionAlert(pool, {
          alertId: id,
          action,
          actor,
          expectedVersion: await currentVersion(pool, id, intOption(values.version as string | undefined, '--version')),
          reason: values.reason as string | undefined,
          note: values.note as string | undefined,
          disposition: values.disposition as string | undefined,
          intentional,
          duplicateOf: intOption(values['duplicate-of'] as string | undefined, '--duplicate-of'),
          proposedAction: proposed,
          amountDue: values['amount-due'] as string | undefined,
          holdFrom: values['hold-from'] as string | undefined,
          restoreThrough: values['restore-through'] as string | undefined
        });
        say(
          r,
          !!values.json,
          r.pending
            ? `alert ${id}: ${action} proposed (proposal ${r.proposalId}${r.backPay ? `, back pay ${r.backPay}` : ''}) — a second auditor must approve it`
            : `alert ${id}: ${action} → ${r.status} (version ${r.version})${r.holdId ? `, payment hold ${r.holdId}` : ''}${r.backPay ? `, back pay ${r.backPay}` : ''}`
        );
        return 0;
      });
    }
  },

  recovery: {
    summary: 'record money recovered on an approved alert (the recovery ledger); reaching the amount due moves it to recovered',
    usage:
      'record ALERT --amount 1234.56 --method cash|offset|instalment --by USER [--on YYYY-MM-DD] [--offset-against TEXT] [--note TEXT] [--json]',
    async run(argv: string[], config: Config): Promise<number> {
      const [sub, ...rest] = argv;
      oneOf(sub, ['record'] as const, 'subcommand');
      const { values, positionals } = parse(
        rest,
        {
          amount: { type: 'string' },
          method: { type: 'string' },
          by: { type: 'string' },
          on: { type: 'string' },
          'offset-against': { type: 'string' },
          note: { type: 'string' },
          json: { type: 'boolean' }
        },
        true
      );
      const id = alertIdArg(positionals[0]);
      if (!values.amount) throw new UsageError('--amount is required (yuan, e.g. 1234.56)');
      const method = oneOf(values.method as string | undefined, RECOVERY_METHODS, '--method') as RecoveryMethod;
      return withDb(config, async (pool) => {
        const actor = await actorFor(pool, values.by as string | undefined);
        const r = await recordRecovery(pool, {
          alertId: id,
          amount: values.amount as string,
          method,
          actor,
          recoveredOn: values.on as string | undefined,
          offsetAgainst: values['offset-against'] as string | undefined,
          note: values.note as string | undefined
        });
        say(
          r,
          !!values.json,
          `alert ${id}: ${values.amount} recovered (${method}); ${r.ledger.recovered} of ${r.ledger.amount_due} due, ${r.ledger.outstanding} outstanding — ${r.ledger.ledger_status}`
        );
        return 0;
      });
    }
  },

  audit: {
    summary: 'the audit trail: verify its hash chain (exit 1 naming the first tampered event) or export it',
    usage: 'verify | export [--format csv|json]',
    async run(argv: string[], config: Config): Promise<number> {
      const [sub, ...rest] = argv;
      const sc = oneOf(sub, ['verify', 'export'] as const, 'subcommand');
      if (sc === 'verify') {
        parse(rest, {});
        return withDb(config, async (pool) => {
          const r = await verifyAuditChain(pool);
          if (!r.ok) {
            console.error(`yinling audit: ${r.firstBad!.message} (${r.events} events read)`);
            return 1;
          }
          console.log(`audit chain verified: ${r.events} events in ${(r.ms / 1000).toFixed(1)} s`);
          return 0;
        });
      }
      const { values } = parse(rest, { format: { type: 'string' } });
      const format = oneOf(values.format as string | undefined, ['csv', 'json'] as const, '--format', 'csv');
      return withDb(config, async (pool) => {
        await audit(pool, { type: 'operator', name: os.userInfo().username }, 'export', 'audit', { format });
        const rows = await exportDataset(pool, 'audit', { format, out: process.stdout });
        console.error(`${rows} rows`);
        return 0;
      });
    }
  }
};
