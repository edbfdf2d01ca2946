/**
 * A fastText model file as a text scorer: each text's probability for every label, as fastText's
 * `predict(text, k = all labels, threshold = 0)` returns them, in the card's label order. A label
 * that fastText leaves out (hierarchical softmax prunes paths below probability 1e-5) scores 0.
 *
 * The whole file is read into memory, and each worker thread reads its own copy: a DCLM-sized
 * `.bin` (several GB) wants fewer workers or its `.ftz` (`fasttext quantize`).
 */
import { readFile } from 'node:fs/promises';
import { FtzFormatError, readFtz } from '../../filters/langid/ftz-format.ts';
import { InputError } from '../../pipeline/errors.ts';
import type { FastTextFileCard } from '../model-card.ts';
import { FastTextSupervisedModel } from './supervised-model.ts';

export interface FastTextFileScorer {
  readonly model: FastTextSupervisedModel;
  /** The scorer, its outputs in the card's label order (checked against the file's labels). */
  withCard(card: FastTextFileCard): {
    readonly card: FastTextFileCard;
    readonly outputs: number;
    score(texts: readonly string[]): Promise<Float32Array>;
    close(): Promise<void>;
  };
}

export async function openFastTextFile(file: string): Promise<FastTextFileScorer> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new InputError(file, {}, `cannot read the fastText model: ${(e as Error).message}`);
  }
  let model: FastTextSupervisedModel;
  try {
    model = new FastTextSupervisedModel(readFtz(bytes, file), file);
  } catch (e) {
    if (e instanceof FtzFormatError) throw new InputError(file, {}, e.message.slice(file.length + 2));
    throw e;
  }
  return {
    model,
    withCard(card) {
      const missing = card.labels.filter((l) => !model.labels.includes(l));
      if (missing.length > 0) throw new InputError(file, {}, `the card names labels the model does not have: ${missing.join(', ')} (the model's: ${model.labels.join(', ')})`);
      const column = new Map(card.labels.map((l, i) => [l, i]));
      const k = card.labels.length;
      return {
        card,
        outputs: k,
        async score(texts) {
          const out = new Float32Array(texts.length * k);
          texts.forEach((text, r) => {
            for (const p of model.predict(text, -1, 0)) {
              const c = column.get(p.label);
              if (c !== undefined) out[r * k + c] = p.probability;
            }
          });
          return out;
        },
        close: async () => {},
      };
    },
  };
}
