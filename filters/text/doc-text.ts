/**
 * The words and lines of a document, computed once and shared by the rules that read them
 * (gopher-repetition, gopher-quality, c4, fineweb, dirty-words, token-outlier): cached on the Doc
 * object and recomputed when its text changes (a mapper such as c4 rewrites `doc.text`).
 * Callers must not modify the arrays they get.
 */
import type { Doc } from '../../pipeline/doc.ts';
import { splitWords } from './words.ts';
import { splitLines } from './lines.ts';

interface TextParts {
  text: string;
  words?: readonly string[];
  lines?: readonly string[];
}

const cache = new WeakMap<Doc, TextParts>();

function partsOf(doc: Doc): TextParts {
  const hit = cache.get(doc);
  if (hit !== undefined && hit.text === doc.text) return hit;
  const parts: TextParts = { text: doc.text };
  cache.set(doc, parts);
  return parts;
}

/** `splitWords(doc.text)`, once per text. */
export function wordsOf(doc: Doc): readonly string[] {
  const p = partsOf(doc);
  return (p.words ??= splitWords(p.text));
}

/** `splitLines(doc.text)`, once per text. */
export function linesOf(doc: Doc): readonly string[] {
  const p = partsOf(doc);
  return (p.lines ??= splitLines(p.text));
}
