import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { WordListMatcher } from '../text/word-list-matcher.ts';

/** The specification: one alternation regex over the entries, in their order. */
function regexCount(entries: string[], wholeWords: boolean, text: string): number {
  const body = entries.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+')).join('|');
  const re = new RegExp(wholeWords ? `(?<![\\p{L}\\p{N}])(?:${body})(?![\\p{L}\\p{N}])` : `(?:${body})`, 'giu');
  return text.match(re)?.length ?? 0;
}

function agree(entries: string[], wholeWords: boolean, texts: string[]): void {
  const m = new WordListMatcher(entries, wholeWords);
  for (const t of texts) assert.equal(m.count(t), regexCount(entries, wholeWords, t), `${JSON.stringify(entries)} in ${JSON.stringify(t)}`);
}

test('counts whole-word, case-insensitive matches; a match ends where the next search starts', () => {
  const m = new WordListMatcher(['ass', 'hell'], true);
  assert.equal(m.count('Hell, ASS and hell'), 3);
  assert.equal(m.count('class hello shell'), 0);
  assert.equal(m.count('ass-ass.ass'), 3);
});

test('at one position the first entry in list order wins, not the longest match', () => {
  // "a  b" (source length 4) comes before "a bc" only by length; with `\s+` "a b" can match longer text.
  const entries = ['a   b', 'a bcd', 'a'];
  agree(entries, true, ['a        bcd', 'a b', 'a bcd', 'a  bcd x a', 'xa b']);
  agree(['two girls', 'two'], true, ['Two\tgirls', 'two\u00a0girls one', 'two  girlsx', 'two']);
});

test('folds case as the regex engine does under `iu` (long s, final sigma, Kelvin sign, dotted I)', () => {
  agree(['ass', 'ſs', 'σκατά', 'k', 'i̇ki'], true, ['AſS aſſ ſſ', 'ΣΚΑΤΆ σκατάς ΣΚΑΤΑ ςκατά', 'K \u212a k', 'İKİ i̇ki İki']);
});

test('lookarounds and positions are in code points (astral letters, lone surrogates)', () => {
  agree(['ab', '🖕', 'x🖕'], true, ['𝐀ab ab𝐀 🖕🖕 x🖕 a🖕', '\ud835ab ab\udc00', 'ab\ud835\udc00']);
  agree(['乳房', '🖕a'], false, ['乳房乳房 乳 🖕A 🖕🖕a', '\ud83d乳房']);
});

test('agrees with the regex on every LDNOOBW list, over text made of the list itself', () => {
  const lists = createRequire(import.meta.url)('naughty-words') as Record<string, string[]>;
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const seps = [' ', '  ', '\n', ', ', '-', '', 'x', '1', '\u00a0', 'é', '.'];
  for (const [lang, list] of Object.entries(lists)) {
    const wholeWords = !['zh', 'ja', 'th', 'ko'].includes(lang);
    const entries = list
      .map((w) => w.trim().toLowerCase())
      .filter((w) => w !== '' && (wholeWords || [...w].length >= 2))
      .sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    const texts = Array.from({ length: 40 }, () => {
      let t = '';
      for (let k = 0; k < 30; k++) {
        let w = list[rand(list.length)]!;
        if (rand(3) === 0) w = w.toUpperCase();
        if (rand(4) === 0) w = w.slice(0, 1 + rand(w.length));
        t += w + seps[rand(seps.length)]!;
      }
      return t;
    });
    agree(entries, wholeWords, texts);
  }
});
