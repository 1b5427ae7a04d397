// CSV scanning (RFC 4180 on bytes) and encoding detection/decoding of jobs/ingest.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvScanner, MAX_RECORD_BYTES, parseCsvText } from '../jobs/ingest/csv.ts';
import {
  NotTextError,
  SAMPLE_BYTES,
  decodedChunks,
  detectEncoding,
  encodingCheck,
  newReadInfo,
  probeFile,
  utf8Chunks,
  type FileEncoding
} from '../jobs/ingest/encoding.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-csv-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function scanChunks(chunks: Buffer[], encoding: FileEncoding = 'utf-8') {
  const out: { lineNo: number; fields: string[]; raw: string; error: string | null; badEncoding: boolean }[] = [];
  const s = new CsvScanner((r) => {
    const fields: string[] = [];
    for (let k = 0; k < r.count; k++) fields.push(r.buf.toString('utf8', r.starts[k], r.ends[k]));
    out.push({
      lineNo: r.lineNo,
      fields: r.error ? [] : fields,
      raw: r.raw.toString('utf8', r.rawStart, r.rawEnd),
      error: r.error,
      badEncoding: r.badEncoding
    });
  }, encodingCheck(encoding));
  for (const c of chunks) s.push(c);
  s.end();
  return out;
}

describe('CSV scanner', () => {
  it('splits plain lines, CRLF, and skips blank lines', () => {
    const rows = parseCsvText('a,b,c\r\n1,2,3\r\n\r\n  \n4,,6\n7,8,9');
    expect(rows.map((r) => [r.lineNo, r.fields])).toEqual([
      [1, ['a', 'b', 'c']],
      [2, ['1', '2', '3']],
      [5, ['4', '', '6']],
      [6, ['7', '8', '9']]
    ]);
  });

  it('handles quoted commas, quoted line breaks and "" escapes, with physical line numbers', () => {
    const text = 'id,name,note\n1,"Zhang, San","said ""hi"""\n2,"multi\nline\r\nnote",x\n3,plain,"a"\n4,short\n';
    const rows = parseCsvText(text);
    expect(rows.map((r) => [r.lineNo, r.fields])).toEqual([
      [1, ['id', 'name', 'note']],
      [2, ['1', 'Zhang, San', 'said "hi"']],
      [3, ['2', 'multi\nline\r\nnote', 'x']],
      [6, ['3', 'plain', 'a']],
      [7, ['4', 'short']]
    ]);
    expect(rows[2].raw).toBe('2,"multi\nline\r\nnote",x');
  });

  it('reports grammar errors on the first line only and carries on', () => {
    const rows = parseCsvText('a,b\n1,x"y\n2,"ok"z\n3,fine\n4,"never closed\n5,after\n');
    expect(rows.map((r) => [r.lineNo, r.error ? 'error' : r.fields.join('|')])).toEqual([
      [1, 'a|b'],
      [2, 'error'],
      [3, 'error'],
      [4, '3|fine'],
      [5, 'error'],
      [6, '5|after']
    ]);
    expect(rows[1].error).toMatch(/quote inside an unquoted field/);
    expect(rows[1].raw).toBe('1,x"y');
    expect(rows[4].error).toMatch(/not closed/);
  });

  it('gives the same records however the input is chunked', () => {
    const lines = ['h1,h2,h3'];
    for (let i = 0; i < 300; i++) {
      lines.push(i % 7 === 0 ? `${i},"q,${i}\nnext ""line""",张三${i}` : i % 11 === 0 ? `${i},bad"quote,x` : `${i},v${i},名字${i}`);
    }
    const text = Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');
    const whole = scanChunks([text]);
    let seed = 7;
    for (let trial = 0; trial < 20; trial++) {
      const chunks: Buffer[] = [];
      for (let p = 0; p < text.length;) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const n = 1 + (seed % 97);
        chunks.push(text.subarray(p, p + n));
        p += n;
      }
      expect(scanChunks(chunks)).toEqual(whole);
    }
    expect(whole.filter((r) => r.error)).toHaveLength(lines.filter((l, i) => i > 0 && l.includes('bad"')).length);
    expect(whole.at(-1)!.lineNo).toBe(lines.length + lines.filter((l) => l.includes('\n')).length);
  });

  it('flags records with invalid UTF-8 and keeps the others', () => {
    const good = Buffer.from('a,b\n1,张三\n', 'utf8');
    const badLine = Buffer.concat([Buffer.from('2,'), Buffer.from([0xd5, 0xc5]), Buffer.from('\n3,ok\n')]);
    const rows = scanChunks([good, badLine]);
    expect(rows.map((r) => [r.lineNo, r.badEncoding])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, false]
    ]);
  });

  it('refuses a line longer than the record limit and resumes after it', () => {
    const long = 'x'.repeat(MAX_RECORD_BYTES + 10);
    const rows = scanChunks([Buffer.from('a,b\n'), Buffer.from(long.slice(0, 700_000)), Buffer.from(long.slice(700_000) + '\n1,2\n')]);
    expect(rows.map((r) => [r.lineNo, r.error ? 'error' : r.fields.join('|')])).toEqual([
      [1, 'a|b'],
      [2, 'error'],
      [3, '1|2']
    ]);
  });
});

describe('encoding', () => {
  const chinese = 'id_number,name\n110101195003071235,张三丰\n110101196211201248,欧阳娜娜\n';

  it('detects UTF-8, UTF-8 with BOM and GB18030', () => {
    expect(detectEncoding(Buffer.from(chinese, 'utf8')).encoding).toBe('utf-8');
    expect(detectEncoding(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(chinese, 'utf8')])).encoding).toBe('utf-8-bom');
    expect(detectEncoding(iconv.encode(chinese, 'gb18030')).encoding).toBe('gb18030');
    expect(detectEncoding(iconv.encode(chinese, 'gbk')).encoding).toBe('gb18030');
    expect(detectEncoding(Buffer.from('a,b\n1,2\n')).encoding).toBe('utf-8');
  });

  it('is not fooled by a multibyte character cut at the end of the sample', () => {
    // The sample starts at the first non-ASCII chunk; put a 3-byte character across its end.
    const prefix = Buffer.from('a,' + '张'.repeat(10) + '\n', 'utf8');
    const fill = Buffer.alloc(SAMPLE_BYTES - prefix.length - 1, 0x61);
    const buf = Buffer.concat([prefix, fill, Buffer.from('张三\n', 'utf8')]);
    expect(buf.subarray(0, SAMPLE_BYTES).toString('utf8').endsWith('\ufffd')).toBe(true); // really cut
    expect(detectEncoding(buf).encoding).toBe('utf-8');
  });

  it('decides on the first non-ASCII content, however late it comes', () => {
    const asciiPrefix = Buffer.from('id,name\n' + 'x,y\n'.repeat(400_000));
    expect(asciiPrefix.length).toBeGreaterThan(SAMPLE_BYTES);
    expect(detectEncoding(Buffer.concat([asciiPrefix, iconv.encode('z,王五\n', 'gb18030')])).encoding).toBe('gb18030');
    expect(detectEncoding(Buffer.concat([asciiPrefix, Buffer.from('z,王五\n')])).encoding).toBe('utf-8');
  });

  it('keeps a UTF-8 file with a damaged byte UTF-8 (the damaged line is refused, the names survive)', () => {
    const names = Array.from({ length: 40 }, (_, i) => `${i},张三丰欧阳娜娜${i}`).join('\n');
    const damaged = Buffer.concat([Buffer.from('id,name\n' + names + '\n41,'), Buffer.from([0xd5, 0xc5]), Buffer.from('\n', 'utf8')]);
    expect(detectEncoding(damaged).encoding).toBe('utf-8');
    const rows = scanChunks([damaged]);
    expect(rows.filter((r) => r.badEncoding).map((r) => r.lineNo)).toEqual([42]);
    expect(rows[1].fields[1]).toBe('张三丰欧阳娜娜0');
    // GBK text stays GB18030 however much of it there is.
    expect(detectEncoding(iconv.encode('id,name\n' + names + '\n', 'gbk')).encoding).toBe('gb18030');
  });

  it('calls binary and UTF-16 files not text', () => {
    expect(detectEncoding(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08])).notText).toMatch(/NUL/);
    expect(detectEncoding(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n', 'utf16le')])).notText).toMatch(/UTF-16/);
  });

  it('streams GB18030 and BOM files as UTF-8, Chinese names intact', async () => {
    const names = ['张三丰', '欧阳娜娜', '𠀀𠀁', '龘', 'Ünïcödé'];
    const text = 'id,name\n' + names.map((n, i) => `${i},${n}`).join('\n') + '\n';
    for (const [label, bytes] of [
      ['gb', iconv.encode(text, 'gb18030')],
      ['bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])]
    ] as const) {
      const file = path.join(tmp, `${label}.csv`);
      fs.writeFileSync(file, bytes);
      const probe = await probeFile(file);
      const parts: Buffer[] = [];
      for await (const c of utf8Chunks(file, probe.encoding)) parts.push(c);
      const rows = scanChunks(parts, probe.encoding);
      expect(rows.map((r) => r.fields[1])).toEqual(['name', ...names]);
      expect(rows.every((r) => !r.badEncoding)).toBe(true);
    }
  });

  it('marks GB18030 lines with undecodable bytes', async () => {
    const bytes = Buffer.concat([
      iconv.encode('id,name\n1,张三\n2,', 'gb18030'),
      Buffer.from([0x81, 0x20]),
      iconv.encode('\n3,李四\n', 'gb18030')
    ]);
    expect(detectEncoding(bytes).encoding).toBe('gb18030');
    const file = path.join(tmp, 'gb-bad.csv');
    fs.writeFileSync(file, bytes);
    const parts: Buffer[] = [];
    for await (const c of utf8Chunks(file, 'gb18030')) parts.push(c);
    const rows = scanChunks(parts, 'gb18030');
    expect(rows.map((r) => [r.lineNo, r.badEncoding])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, false]
    ]);
    expect(rows[3].fields[1]).toBe('李四');
  });

  it('decodes, detects and hashes in one pass, even when the Chinese text starts after a long ASCII prefix', async () => {
    const prefix = 'id,name\n' + Array.from({ length: 150_000 }, (_, i) => `${i},x${i}`).join('\n') + '\n';
    expect(prefix.length).toBeGreaterThan(SAMPLE_BYTES);
    const tail = '150000,张三丰\n150001,欧阳娜娜\n';
    for (const [label, bytes, enc] of [
      ['late-gb', Buffer.concat([Buffer.from(prefix), iconv.encode(tail, 'gb18030')]), 'gb18030'],
      ['late-utf8', Buffer.from(prefix + tail, 'utf8'), 'utf-8'],
      ['bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(prefix + tail, 'utf8')]), 'utf-8-bom']
    ] as const) {
      const file = path.join(tmp, `${label}.csv`);
      fs.writeFileSync(file, bytes);
      const info = newReadInfo();
      const parts: Buffer[] = [];
      for await (const c of decodedChunks(file, info)) parts.push(c);
      expect(info.encoding, label).toBe(enc);
      expect(info.sha256).toBe((await probeFile(file)).sha256);
      expect(info.size).toBe(bytes.length);
      const text = Buffer.concat(parts).toString('utf8');
      expect(text, label).toBe(prefix + tail);
    }
  });

  it('refuses binary and UTF-16 content in the streaming pass', async () => {
    for (const [label, bytes] of [
      ['bin', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x01])],
      ['u16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n', 'utf16le')])]
    ] as const) {
      const file = path.join(tmp, `${label}.csv`);
      fs.writeFileSync(file, bytes);
      const consume = async () => {
        for await (const c of decodedChunks(file, newReadInfo())) void c;
      };
      await expect(consume()).rejects.toBeInstanceOf(NotTextError);
    }
  });

  it('hashes content: same bytes, same fingerprint whatever the name', async () => {
    const a = path.join(tmp, 'a.csv'),
      b = path.join(tmp, 'b.csv');
    fs.writeFileSync(a, chinese);
    fs.writeFileSync(b, chinese);
    const [pa, pb] = [await probeFile(a), await probeFile(b)];
    expect(pa.sha256).toBe(pb.sha256);
    expect(pa.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(pa.size).toBe(Buffer.byteLength(chinese));
  });
});
