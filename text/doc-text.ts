/**
 * The words and lines of a document, computed once and shared by the rules that read them
 * (gopher-repetition, gopher-quality, c4, fineweb, dirty-words, token-outlier): cached on the Doc
 * object and recomputed when its text changes (a mapper such as c4 rewrites `doc.text`).
 * Callers must not modify what they get.
 */
import type { Doc } from '../pipeline/doc.ts';
import { needsSegmenter, splitWords, type SegmentCache } from './words.ts';
import { splitLines } from './lines.ts';
import { countWords, indexWords, type WordIndex } from './word-index.ts';

interface TextParts {
  text: string;
  /** Kept when the text changes: runs of no-space script that c4 leaves in place are segmented once. */
  segments: SegmentCache;
  index?: WordIndex;
  words?: readonly string[];
  lines?: readonly string[];
  noSpaceScript?: boolean;
  wordCount?: number;
}

const cache = new WeakMap<Doc, TextParts>();

function partsOf(doc: Doc): TextParts {
  const hit = cache.get(doc);
  if (hit !== undefined && hit.text === doc.text) return hit;
  const parts: TextParts = { text: doc.text, segments: hit?.segments ?? new Map() };
  cache.set(doc, parts);
  return parts;
}

/** `indexWords(doc.text)`: the words as ids, once per text. */
export function wordIndexOf(doc: Doc): WordIndex {
  const p = partsOf(doc);
  return (p.index ??= indexWords(p.text, p.segments));
}

/** `splitWords(doc.text).length`: from the word index when there is one, else counted without one. */
export function wordCountOf(doc: Doc): number {
  const p = partsOf(doc);
  return p.index?.ids.length ?? (p.wordCount ??= countWords(p.text, p.segments));
}

/** `splitWords(doc.text)`, once per text. */
export function wordsOf(doc: Doc): readonly string[] {
  const p = partsOf(doc);
  if (p.words !== undefined) return p.words;
  const { ids, vocab } = wordIndexOf(doc);
  const words = new Array<string>(ids.length);
  for (let i = 0; i < ids.length; i++) words[i] = vocab[ids[i]! - 1]!;
  return (p.words = words);
}

/** `needsSegmenter(doc.text)`, once per text. */
export function needsSegmenterOf(doc: Doc): boolean {
  const p = partsOf(doc);
  return (p.noSpaceScript ??= p.index?.noSpaceScript ?? needsSegmenter(p.text));
}

/** `splitWords(part)` of a part of the document's text (a line), sharing the document's segmenter results. */
export function splitWordsIn(doc: Doc, part: string): string[] {
  return splitWords(part, partsOf(doc).segments);
}

/** `splitLines(doc.text)`, once per text. */
export function linesOf(doc: Doc): readonly string[] {
  const p = partsOf(doc);
  return (p.lines ??= splitLines(p.text));
}
