// The workbench's files: the filtered queue and an alert's case file, as CSV (UTF-8 with BOM, which
// Excel opens as UTF-8) and as Excel (.xlsx, exceljs). Every text cell goes through
// spreadsheetCell() (core/spreadsheet.ts): a value starting with = + - @ never runs as a formula.
// Money stays exact: written as the decimal text it is in the database (no float round trip).
// Every export is logged in audit_log ('export.queue' / 'export.case') before the file leaves.
import ExcelJS from 'exceljs';
import { stringify } from 'csv-stringify/sync';
import { spreadsheetCell } from '../../../../core/spreadsheet.ts';
import { audit } from '../../../../core/audit.ts';
import type { Pool } from '../../../../core/db/pool.ts';
import type { Caller } from './access.ts';
import type { QueueRow, QueueFilters } from './queue.ts';
import { filtersQuery } from './queue.ts';
import type { AlertDetail } from './detail.ts';

export type Format = 'csv' | 'xlsx';

export interface Sheet {
  name: string;
  header: string[];
  rows: (string | number | null)[][];
}

const cell = (v: string | number | null): string => (v === null || v === undefined ? '' : spreadsheetCell(String(v)));

export function toCsv(sheets: Sheet[]): Buffer {
  const parts = sheets.map(
    (s, i) =>
      (i ? `\r\n# ${spreadsheetCell(s.name)}\r\n` : '') +
      stringify([s.header.map(cell), ...s.rows.map((r) => r.map(cell))], { record_delimiter: '\r\n' })
  );
  return Buffer.from('\ufeff' + parts.join(''), 'utf8');
}

export async function toXlsx(sheets: Sheet[], title: string): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Yinling';
  wb.title = title;
  for (const s of sheets) {
    const ws = wb.addWorksheet(s.name.slice(0, 31));
    ws.addRow(s.header.map(cell)).font = { bold: true };
    // Every cell a string: numbers as their exact decimal text, and nothing is ever a formula.
    for (const r of s.rows) ws.addRow(r.map(cell));
    ws.views = [{ state: 'frozen', ySplit: 1 }];
    ws.columns.forEach((c) => (c.width = 16));
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export function queueSheet(rows: QueueRow[]): Sheet {
  return {
    name: '预警队列 Queue',
    header: [
      'alert_id',
      '规则 rule',
      '规则名 rule name',
      '严重度 severity',
      '状态 status',
      '风险金额 amount_at_risk',
      '下次发放 next_payroll',
      '发放前风险 money_before_payroll',
      '期间 periods',
      '经办 assignee',
      '时限 sla_state',
      '发现时间 opened_at',
      '区域 region',
      '姓名 name',
      '身份证号 id_number'
    ],
    rows: rows.map((r) => [
      r.alert_id,
      r.rule,
      r.rule_zh,
      r.severity,
      r.status,
      r.amount_at_risk,
      r.next_payroll,
      r.money_before_payroll,
      r.periods.join(';'),
      r.assignee,
      r.sla_state,
      r.opened_at,
      r.region_name,
      r.name,
      r.id_number
    ])
  };
}

export function caseSheets(d: AlertDetail): Sheet[] {
  const a = d.alert;
  return [
    {
      name: '预警 Alert',
      header: ['field', 'value'],
      rows: [
        ['alert_id', a.alert_id],
        ['rule', `${a.rule} ${a.rule_zh}`],
        ['severity', a.severity],
        ['status', `${a.status} ${a.status_zh}`],
        ['amount_at_risk', a.amount_at_risk],
        ['amount_due', a.amount_due],
        ['periods', a.periods.join(';')],
        ['reason_zh', d.reason_zh],
        ['reason_en', d.reason_en],
        ['name', d.person.name],
        ['id_number', d.person.id_number],
        ['region', a.region_name],
        ['assignee', a.assignee],
        ['disposition', a.disposition],
        ['opened_at', a.opened_at],
        ['detected_as_of', a.detected_as_of],
        ['run_id', a.run_id],
        ['version', a.version],
        ['recovered_total', d.recovered_total]
      ]
    },
    {
      name: '证据时间线 Timeline',
      header: [
        'day',
        'at',
        'kind',
        'lane',
        'ref',
        'title',
        'amount',
        'info',
        'evidence',
        'feed',
        'file_name',
        'line_no',
        'loaded_at',
        'run_id',
        'job'
      ],
      rows: d.timeline.map((t) => [
        t.day,
        t.at,
        t.kind,
        t.lane,
        t.ref,
        t.title,
        t.amount,
        t.info,
        t.evidence ? 'yes' : '',
        t.lineage.feed,
        t.lineage.file_name,
        t.lineage.line_no,
        t.lineage.loaded_at,
        t.lineage.run_id,
        t.lineage.job
      ])
    },
    {
      name: '流转 Transitions',
      header: ['at', 'actor', 'from', 'to', 'action', 'reason'],
      rows: d.transitions.map((t) => [t.at, t.actor, t.from_status, t.to_status, t.action, t.reason])
    },
    {
      name: '关联预警 Related',
      header: ['alert_id', 'rule', 'status', 'amount_at_risk', 'opened_at', 'why'],
      rows: d.related.map((r) => [r.alert_id, r.rule, r.status, r.amount_at_risk, r.opened_at, r.why])
    }
  ];
}

export async function render(sheets: Sheet[], format: Format, title: string): Promise<{ body: Buffer; type: string }> {
  if (format === 'csv') return { body: toCsv(sheets), type: 'text/csv; charset=utf-8' };
  return { body: await toXlsx(sheets, title), type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' };
}

export async function logExport(
  pool: Pool,
  caller: Caller,
  what: 'export.queue' | 'export.case',
  subject: string,
  detail: { format: Format; rows: number; filters?: QueueFilters; masked: boolean },
  ip?: string
): Promise<void> {
  await audit(pool, { type: 'staff', name: caller.name, ip }, what, subject, {
    format: detail.format,
    rows: detail.rows,
    masked: detail.masked,
    role: caller.role,
    ...(detail.filters ? { filters: filtersQuery(detail.filters) } : {})
  });
}
