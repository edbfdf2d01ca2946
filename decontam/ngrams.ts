/**
 * The n-grams the contamination ledger indexes and a benchmark item is checked by: words are runs
 * of letters and digits, lower-cased (punctuation, case and spacing do not hide an overlap, as in
 * GPT-3's decontamination), and an n-gram is the hash of n consecutive words joined by one space,
 * 64 bits as two independent 32-bit hashes (pipeline/hash.ts).
 */
import { hashString32 } from '../pipeline/hash.ts';

/** n of GPT-3's decontamination (Brown et al. 2020, appendix C); the Llama 3 paper's analysis used 8. */
export const DEFAULT_N = 13;

const WORD = /[\p{L}\p{N}]+/gu;
const SEED_HI = 0x2801;
const SEED_LO = 0x2802;

/** The text's words, lower-cased and joined by single spaces, and where each word starts and ends in that string. */
export function normalizedWords(text: string): { joined: string; starts: number[]; ends: number[] } {
  const words = text.toLowerCase().match(WORD) ?? [];
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const w of words) {
    starts.push(at);
    ends.push(at + w.length);
    at += w.length + 1;
  }
  return { joined: words.join(' '), starts, ends };
}

/** The distinct n-gram hashes of `text` as [hi, lo, hi, lo, ...]; empty when it has fewer than n words. */
export function ngramHashes(text: string, n: number): Uint32Array {
  const { joined, starts, ends } = normalizedWords(text);
  const count = Math.max(0, starts.length - n + 1);
  const seen = new Set<string>();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const hi = hashString32(joined, SEED_HI, starts[i], ends[i + n - 1]);
    const lo = hashString32(joined, SEED_LO, starts[i], ends[i + n - 1]);
    const key = `${hi}:${lo}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(hi, lo);
  }
  return Uint32Array.from(out);
}

/** The partition of the ledger an n-gram lives in. */
export const partitionOf = (hi: number, partitions: number): number => hi % partitions;
