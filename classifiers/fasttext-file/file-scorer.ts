/**
 * A fastText model file as a text scorer: each text's probability for every label, as fastText's
 * `predict(text, k = all labels, threshold = 0)` returns them, in the card's label order. A label
 * that fastText leaves out (hierarchical softmax prunes paths below probability 1e-5) scores 0.
 *
 * The whole file is read into memory, and each worker thread reads its own copy: a DCLM-sized
 * `.bin` (several GB) wants fewer workers or its `.ftz` (`fasttext quantize`). Files are read in
 * chunks, since one read (and `readFile`) stops at 2 GiB; a file larger than one buffer can hold
 * (4 GiB in Node 20) is refused with that advice.
 */
import { open } from 'node:fs/promises';
import { constants } from 'node:buffer';
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

/** Reads below 2 GiB each: what one `read` call accepts. */
const CHUNK = 1 << 30;

async function readWhole(file: string): Promise<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw new InputError(file, {}, `cannot read the fastText model: ${(e as Error).message}`);
  }
  try {
    const { size } = await handle.stat();
    if (size > constants.MAX_LENGTH) {
      throw new InputError(file, {}, `${size} bytes: more than one buffer holds (${constants.MAX_LENGTH}); quantise it with \`fasttext quantize\` (.ftz)`);
    }
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(CHUNK, size - at), at);
      if (bytesRead === 0) throw new InputError(file, {}, `the file ended at byte ${at} of ${size}`);
      at += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

export async function openFastTextFile(file: string): Promise<FastTextFileScorer> {
  const bytes = await readWhole(file);
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
