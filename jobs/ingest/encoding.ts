// Reading a delivered file, streamed (memory stays at a few chunks whatever the file size; nothing here reads
// a whole data file): decodedChunks() yields UTF-8 bytes whatever the file's encoding while it hashes the
// content (SHA-256) and detects the encoding on the way; probeFile() only fingerprints (used when a file of
// the same size is already known, to skip a duplicate without parsing it, and for rejected files).
//
// Encoding detection (docs/feeds.md: UTF-8 with or without BOM, or GB18030/GBK):
//  * a UTF-8 BOM → UTF-8;
//  * a UTF-16/32 BOM or a NUL byte in the first MiB → not a CSV text file (rejected whole);
//  * otherwise the decision is taken on the first MiB that contains non-ASCII bytes (pure ASCII reads the
//    same in both encodings, so a long ASCII prefix cannot fool it): UTF-8 there (strictly, or with at most
//    5% damaged sequences, whose lines are then quarantined) → UTF-8, else GB18030. A multibyte character
//    cut by the end of the sample is not held against UTF-8.
// GB18030 files are decoded with iconv-lite's streaming decoder and re-encoded as UTF-8 for the scanner.
// Other encodings (Big5, Shift-JIS, EUC-…) would decode as GB18030 into valid-looking garbage (陳大文 →
// 朝ゅ…): a sample that is not UTF-8 must also read as Chinese in GB18030 by chardet's statistical
// detector (notGb18030), or the file is rejected whole as `bad_encoding`.
import { createHash } from 'node:crypto';
import chardet from 'chardet';
import fs from 'node:fs';
import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import type { EncodingCheck } from './csv.ts';

export type FileEncoding = 'utf-8' | 'utf-8-bom' | 'gb18030';

export const SAMPLE_BYTES = 1 << 20;
export const CHUNK_BYTES = 1 << 20;

export interface FileProbe {
  sha256: string;
  size: number;
  encoding: FileEncoding;
  /** Why the file is not a CSV text file at all, or null. */
  notText: string | null;
  /** notText says the file is text in an encoding the contract does not allow (Big5, Shift-JIS…). */
  badEncoding?: boolean;
}

/** Length of buf without a trailing, incomplete UTF-8 sequence (which a longer read would complete). */
export function completeUtf8Length(buf: Uint8Array): number {
  const n = buf.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = buf[n - back];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

/** Valid and invalid multibyte UTF-8 sequences in buf (ASCII bytes not counted). */
export function utf8Sequences(buf: Uint8Array): { valid: number; invalid: number } {
  let valid = 0,
    invalid = 0;
  for (let i = 0; i < buf.length;) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    let ok = need > 0;
    for (let k = 1; ok && k <= need; k++) ok = i + k < buf.length && (buf[i + k] & 0xc0) === 0x80;
    if (ok) {
      valid++;
      i += need + 1;
    } else {
      invalid++;
      i++;
    }
  }
  return { valid, invalid };
}

/**
 * Decide between UTF-8 and GB18030 for a sample that starts on a character boundary: strict UTF-8, or UTF-8
 * with a few damaged bytes (≥ 95% of its multibyte sequences valid — GBK text scores ~15%) →
 * UTF-8, the damaged lines then being quarantined one by one instead of the whole file read as GB18030.
 */
export function looksUtf8(sample: Uint8Array, atEndOfFile: boolean): boolean {
  const len = atEndOfFile ? sample.length : completeUtf8Length(sample);
  const s = sample.subarray(0, len);
  if (isUtf8(s)) return true;
  const { valid, invalid } = utf8Sequences(s);
  return valid >= 8 && invalid * 20 <= valid;
}

/** Streaming detector: feed it the file's chunks in order, then ask. */
export class EncodingDetector {
  private first = true;
  private seen = 0;
  private window: Buffer[] = [];
  private windowBytes = 0;
  private decided: FileEncoding | null = null;
  notText: string | null = null;
  /** notText is about the encoding (a text file, but in an encoding the contract does not allow). */
  badEncoding = false;

  push(chunk: Buffer): void {
    if (this.first) {
      this.first = false;
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) this.decided = 'utf-8-bom';
      else if (chunk.length >= 2 && ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))) {
        this.notText = 'the file is UTF-16 or UTF-32 encoded; deliver UTF-8 or GB18030 text';
      }
    }
    if (this.seen < SAMPLE_BYTES && !this.notText) {
      const head = chunk.subarray(0, Math.min(chunk.length, SAMPLE_BYTES - this.seen));
      if (head.indexOf(0) >= 0) this.notText = 'the file contains NUL bytes: it is binary, not a CSV text file';
    }
    this.seen += chunk.length;
    if (this.decided || this.notText) return;
    if (this.windowBytes === 0 && isAscii(chunk)) return;
    const room = SAMPLE_BYTES - this.windowBytes;
    this.window.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    this.windowBytes += Math.min(room, chunk.length);
    if (this.windowBytes >= SAMPLE_BYTES) this.decide(false);
  }

  /** The encoding once decided (BOM, or enough non-ASCII content seen), else null. */
  get current(): FileEncoding | null {
    return this.decided;
  }

  private decide(atEnd: boolean): void {
    const sample = this.window.length === 1 ? this.window[0] : Buffer.concat(this.window);
    this.decided = looksUtf8(sample, atEnd) ? 'utf-8' : 'gb18030';
    if (this.decided === 'gb18030') {
      const other = notGb18030(sample);
      if (other) {
        this.notText = other;
        this.badEncoding = true;
      }
    }
    this.window = [];
  }

  /** Call after the last chunk. */
  result(): FileEncoding {
    if (!this.decided) {
      if (this.windowBytes > 0) this.decide(true);
      else this.decided = 'utf-8';
    }
    return this.decided!;
  }
}

/** Detect the encoding of a whole buffer (tests, small files). */
export function detectEncoding(buf: Buffer): { encoding: FileEncoding; notText: string | null } {
  const d = new EncodingDetector();
  for (let i = 0; i < buf.length || i === 0; i += CHUNK_BYTES) d.push(buf.subarray(i, i + CHUNK_BYTES));
  return { encoding: d.result(), notText: d.notText };
}

/** Read a file in chunks (a fresh buffer each, so callers may keep slices of earlier chunks). */
export async function* fileChunks(path: string, chunkBytes = CHUNK_BYTES): AsyncGenerator<Buffer> {
  const fh = await fs.promises.open(path, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await fh.read(buf, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield bytesRead === chunkBytes ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** The fingerprinting pass: content hash, size, encoding, binary check. */
export async function probeFile(path: string): Promise<FileProbe> {
  const hash = createHash('sha256');
  const detector = new EncodingDetector();
  let size = 0;
  for await (const b of fileChunks(path, 4 * CHUNK_BYTES)) {
    hash.update(b);
    detector.push(b);
    size += b.length;
  }
  return {
    sha256: hash.digest('hex'),
    size,
    encoding: detector.result(),
    notText: size === 0 ? 'the file is empty (not even a header row)' : detector.notText,
    badEncoding: size > 0 && detector.badEncoding
  };
}

const FFFD = Buffer.from([0xef, 0xbf, 0xbd]);

/** What the scanner checks per region/record: strict UTF-8 for UTF-8 files; no replacement character after GB18030 decoding. */
export function encodingCheck(encoding: FileEncoding): EncodingCheck {
  if (encoding === 'gb18030') {
    const ok = (b: Buffer, s: number, e: number) => {
      const i = b.indexOf(FFFD, s);
      return i < 0 || i + 3 > e;
    };
    return { region: ok, record: ok };
  }
  const ok = (b: Buffer, s: number, e: number) => isUtf8(b.subarray(s, e));
  return { region: ok, record: ok };
}

export const ENCODING_PROBLEM: Record<FileEncoding, string> = {
  'utf-8': 'the line is not valid UTF-8 (the file was read as UTF-8; invalid bytes show as �)',
  'utf-8-bom': 'the line is not valid UTF-8 (the file has a UTF-8 byte order mark; invalid bytes show as �)',
  gb18030: 'the line holds bytes that are not valid GB18030 (the file was read as GB18030; they show as �)'
};

/** The file is not text at all (binary, UTF-16): it is rejected whole. */
export class NotTextError extends Error {
  constructor(
    message: string,
    readonly code: 'not_csv' | 'bad_encoding' = 'not_csv'
  ) {
    super(message);
  }
}

/** CJK encodings a delivered file must not be in: GB18030 would read them as garbage that looks like text. */
const OTHER_CJK = /^(Big5|Shift_JIS|EUC-JP|EUC-KR|ISO-2022-(JP|KR|CN))$/;

/**
 * Why a non-UTF-8 sample is not GB18030 Chinese, or null when it is. chardet scores the sample for each
 * encoding by character frequencies: another CJK encoding well ahead (Big5, Shift-JIS with kana…), or —
 * given enough Chinese text to judge (≥ 20 double-byte characters) — a GB18030 score under 30 (measured:
 * GBK Chinese 62–100 with traditional or simplified names, Shift-JIS or EUC-JP kanji names 10) rejects it.
 */
export function notGb18030(sample: Uint8Array): string | null {
  const scores = chardet.analyse(sample);
  const best = scores[0];
  const gb = scores.find((x) => x.name === 'GB18030')?.confidence ?? 0;
  if (best && OTHER_CJK.test(best.name) && best.confidence >= 60 && best.confidence > gb) {
    return `the file looks ${best.name}-encoded (${best.confidence}% sure), not UTF-8 or GB18030: convert it to UTF-8 or GB18030 and deliver it again`;
  }
  let high = 0;
  for (const byte of sample) if (byte >= 0x80) high++;
  if (high >= 40 && gb < 30) {
    return 'the file is neither UTF-8 nor plausible GB18030 Chinese (Big5, Shift-JIS or EUC?): convert it to UTF-8 or GB18030 and deliver it again';
  }
  return null;
}

/** Filled by decodedChunks() as it reads: complete once the generator has finished. */
export interface ReadInfo {
  sha256: string | null;
  size: number;
  encoding: FileEncoding | null;
}

export function newReadInfo(): ReadInfo {
  return { sha256: null, size: 0, encoding: null };
}

/**
 * The file's content as UTF-8 chunks (BOM removed), in one streamed pass that also hashes it and detects its
 * encoding. While the encoding is undecided, pure-ASCII chunks pass through (they read the same in UTF-8 and
 * GB18030); chunks from the first non-ASCII one on are held until the decision (at most SAMPLE_BYTES).
 */
export async function* decodedChunks(path: string, info: ReadInfo): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  const detector = new EncodingDetector();
  let held: Buffer[] = [];
  let decoder: iconv.DecoderStream | null = null;
  let first = true;
  const convert = (raw: Buffer): Buffer | null => {
    const enc = detector.current!;
    if (first) {
      first = false;
      if (enc === 'utf-8-bom' && raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) raw = raw.subarray(3);
    }
    if (enc === 'gb18030') {
      decoder ??= iconv.getDecoder('gb18030');
      const text = decoder.write(raw);
      return text.length ? Buffer.from(text, 'utf8') : null;
    }
    return raw.length ? raw : null;
  };
  for await (const raw of fileChunks(path)) {
    hash.update(raw);
    info.size += raw.length;
    detector.push(raw);
    if (detector.notText) throw new NotTextError(detector.notText, detector.badEncoding ? 'bad_encoding' : 'not_csv');
    info.encoding = detector.current;
    if (!detector.current) {
      if (held.length === 0 && isAscii(raw)) {
        first = false;
        yield raw;
        continue;
      }
      held.push(raw);
      continue;
    }
    for (const b of [...held, raw]) {
      const out = convert(b);
      if (out) yield out;
    }
    held = [];
  }
  info.encoding = detector.result();
  if (detector.notText) throw new NotTextError(detector.notText, detector.badEncoding ? 'bad_encoding' : 'not_csv');
  for (const b of held) {
    const out = convert(b);
    if (out) yield out;
  }
  if (decoder) {
    const rest = (decoder as iconv.DecoderStream).end();
    if (rest) yield Buffer.from(rest, 'utf8');
  }
  info.sha256 = hash.digest('hex');
}

/** The scanner's encoding check for a file whose encoding may still be undecided (info read at each call). */
export function dynamicEncodingCheck(info: ReadInfo): EncodingCheck {
  const utf8 = encodingCheck('utf-8'),
    gb = encodingCheck('gb18030');
  return {
    region: (b, s, e) => (info.encoding === 'gb18030' ? gb : utf8).region(b, s, e),
    record: (b, s, e) => (info.encoding === 'gb18030' ? gb : utf8).record(b, s, e)
  };
}

/** The file's content as UTF-8 chunks (BOM removed), for a known encoding. */
export async function* utf8Chunks(path: string, encoding: FileEncoding): AsyncGenerator<Buffer> {
  const decoder = encoding === 'gb18030' ? iconv.getDecoder('gb18030') : null;
  let first = true;
  for await (let chunk of fileChunks(path)) {
    if (first) {
      first = false;
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    if (decoder) {
      const text = decoder.write(chunk);
      if (text.length) yield Buffer.from(text, 'utf8');
    } else if (chunk.length) yield chunk;
  }
  if (decoder) {
    const rest = decoder.end();
    if (rest) yield Buffer.from(rest, 'utf8');
  }
}

/** The first line of a file as text (for the quarantine row of a rejected file). */
export async function firstLine(path: string, encoding: FileEncoding, maxChars = 1000): Promise<string | null> {
  const stream = fs.createReadStream(path, { start: 0, end: 64 * 1024 - 1 });
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  let buf = Buffer.concat(parts);
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
  const text = encoding === 'gb18030' ? iconv.decode(buf, 'gb18030') : buf.toString('utf8');
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  return line.replaceAll('\u0000', '\u2400').slice(0, maxChars) || null;
}
