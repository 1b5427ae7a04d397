// Seeded pseudo-random numbers for the synthetic city: sfc32 seeded through a string/number hash.
// Never Math.random: the same (seed, stream name, index) always yields the same sequence.

/** 32-bit mix of a list of strings and numbers (murmur3-style finalisation). */
export function hash32(...parts: (string | number)[]): number {
  let h = 0x811c9dc5 | 0;
  for (const part of parts) {
    const s = typeof part === 'number' ? `#${part}` : part;
    for (let i = 0; i < s.length; i++) {
      h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    }
    h = Math.imul(h ^ 0x2f, 0x01000193); // separator so ('ab','c') != ('a','bc')
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, ...stream: (string | number)[]) {
    this.a = hash32('a', seed, ...stream);
    this.b = hash32('b', seed, ...stream);
    this.c = hash32('c', seed, ...stream);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next32();
  }

  /** sfc32: a small fast counter generator with a 128-bit state. */
  next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)];
  }

  /** Pick by weight; weights need not sum to 1. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.float() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1][0];
  }

  /** Number of failures before the first success (mean (1-p)/p), capped. */
  geometric(p: number, cap: number): number {
    let n = 0;
    while (n < cap && !this.chance(p)) n++;
    return n;
  }

  /** Fisher–Yates on a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** k distinct integers from [lo, hi], in draw order. */
  distinct(k: number, lo: number, hi: number, exclude: Set<number> = new Set()): number[] {
    const out: number[] = [];
    const seen = new Set(exclude);
    if (hi - lo + 1 - seen.size < k) throw new Error(`cannot draw ${k} distinct values from [${lo}, ${hi}]`);
    while (out.length < k) {
      const v = this.int(lo, hi);
      if (seen.has(v)) continue;
      seen.add(v);
      out.push(v);
    }
    return out;
  }
}
