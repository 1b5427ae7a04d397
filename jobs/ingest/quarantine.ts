// Quarantine rows of one file, collected as COPY text while the file streams and written with one COPY
// into `quarantine` in the file's transaction. Memory is bounded: past SPILL_BYTES the rows go to a
// temporary file (a file of nothing but bad rows is as large as any other).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from '../../core/db/pool.ts';
import type { Problem } from './values.ts';

const SPILL_BYTES = 8 << 20;
const MAX_RAW_CHARS = 100_000;

/** COPY text escaping for a string value; NUL (impossible in PostgreSQL text) shows as ␀. */
export function copyText(s: string): string {
  /* eslint-disable no-control-regex -- NUL is exactly what is escaped here */
  return /[\\\t\n\r\u0000]/.test(s)
    ? s.replace(/[\\\t\n\r\u0000]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\u2400'))
    : s;
  /* eslint-enable no-control-regex */
}

export class QuarantineSink {
  private parts: string[] = [];
  private bytes = 0;
  private spillPath: string | null = null;
  private spillFd: number | null = null;
  count = 0;
  /** Rows per reason code. */
  readonly byCode = new Map<string, number>();
  private readonly prefix: string;

  constructor(fileId: number, feed: string, fileName: string) {
    this.prefix = `${fileId}\t${copyText(feed)}\t${copyText(fileName)}\t`;
  }

  add(lineNo: number | null, raw: string | null, problems: readonly Problem[]): void {
    const code = problems[0].code;
    const reason = problems.map((p) => p.message).join('; ');
    const rawText = raw === null ? '\\N' : copyText(raw.length > MAX_RAW_CHARS ? raw.slice(0, MAX_RAW_CHARS) + '…[truncated]' : raw);
    const line = `${this.prefix}${lineNo ?? '\\N'}\t${rawText}\t${copyText(reason)}\t${code}\n`;
    this.parts.push(line);
    this.bytes += line.length;
    this.count++;
    this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
    if (this.bytes >= SPILL_BYTES) this.spill();
  }

  private spill(): void {
    if (this.spillFd === null) {
      this.spillPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-quarantine-')), 'rows.copy');
      this.spillFd = fs.openSync(this.spillPath, 'w');
    }
    fs.writeSync(this.spillFd, this.parts.join(''));
    this.parts = [];
    this.bytes = 0;
  }

  /** COPY everything collected into `quarantine` (inside the caller's transaction). */
  async writeTo(client: PoolClient): Promise<void> {
    if (this.count === 0) return;
    const sql = 'COPY quarantine (file_id, feed, file_name, line_no, raw_line, reason, reason_code) FROM STDIN';
    if (this.spillFd !== null) {
      this.spill();
      fs.closeSync(this.spillFd);
      this.spillFd = null;
      await pipeline(fs.createReadStream(this.spillPath!), client.query(copyFrom(sql)));
    } else {
      const parts = this.parts;
      await pipeline(
        Readable.from(
          (function* () {
            for (let i = 0; i < parts.length; i += 2000) yield Buffer.from(parts.slice(i, i + 2000).join(''), 'utf8');
          })()
        ),
        client.query(copyFrom(sql))
      );
    }
  }

  dispose(): void {
    if (this.spillFd !== null) {
      try {
        fs.closeSync(this.spillFd);
      } catch {
        /* already closed */
      }
      this.spillFd = null;
    }
    if (this.spillPath) {
      fs.rmSync(path.dirname(this.spillPath), { recursive: true, force: true });
      this.spillPath = null;
    }
    this.parts = [];
  }
}
