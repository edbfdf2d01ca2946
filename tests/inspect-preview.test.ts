import { test } from 'node:test';
import assert from 'node:assert/strict';
import { previewText } from '../mixes/inspect.ts';
import { mulberry32 } from '../pipeline/seeded-random.ts';

/** The definition: flatten the whole text (line breaks, control characters, white-space runs), then cut. */
function previewWhole(text: string, chars: number): string {
  const flat = text.replace(/\r?\n/g, ' ⏎ ').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '·').replace(/\s+/g, ' ').trim();
  return flat.length > chars ? `${flat.slice(0, chars)}…` : flat;
}

test('previewText flattens only a prefix yet equals flattening the whole text', () => {
  const random = mulberry32(7);
  // Pieces chosen so that cuts fall inside \r\n pairs, white-space runs and control characters.
  const pieces = ['word', 'é', ' ', '   ', '\t', '\n', '\r\n', '\r', '\u0001', '\u0085', '\u00a0', '\n\n\n', ' '.repeat(500), '\r\n'.repeat(200), 'x'.repeat(300)];
  for (let i = 0; i < 3000; i++) {
    const n = Math.floor(random() * 400);
    let text = '';
    for (let j = 0; j < n; j++) text += pieces[Math.floor(random() * pieces.length)];
    const chars = 1 + Math.floor(random() * 120);
    assert.equal(previewText(text, chars), previewWhole(text, chars), JSON.stringify({ text, chars }));
  }
});
