/**
 * fastText itself (fasttext.wasm.js, fastText's C++ compiled to WebAssembly) as the reference that
 * our readers of lid.176 and of supervised model files are checked against, and the bundled
 * sample texts both checks predict on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

interface NativeVector {
  size(): number;
  get(i: number): [number, string];
  delete?: () => void;
}

export interface ReferenceModel {
  predict(text: string, k: number, threshold: number): NativeVector;
}

/** fastText's top `k` predictions for one line, labels without `__label__`, in its order. */
export function referencePredictions(model: ReferenceModel, line: string, k: number, threshold: number): { label: string; probability: number }[] {
  const vector = model.predict(line, k, threshold);
  try {
    return Array.from({ length: vector.size() }, (_, i) => {
      const [probability, label] = vector.get(i);
      return { label: label.replace('__label__', ''), probability };
    });
  } finally {
    vector.delete?.();
  }
}

/** The texts of one file of the bundled sample corpus (examples/corpus). */
export function sampleTexts(file: string): string[] {
  return gunzipSync(readFileSync(join(import.meta.dirname, '..', 'examples', 'corpus', file)))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { text: string }).text);
}
