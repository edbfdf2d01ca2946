/**
 * Stochastic gradient descent for the fastText-style model, as fastText trains it: one example
 * at a time, a learning rate that falls linearly to zero over all epochs, sparse updates of
 * only the embedding rows a document uses; softmax cross-entropy for classes, squared error
 * (on the standardised target) for regression.
 */
import { z } from 'zod';
import { FastTextModel, softmaxInPlace, type FastTextShape } from './model.ts';
import { SeededRandom } from '../../pipeline/seeded-random.ts';

export const SgdOptions = z.object({
  dim: z.number().int().min(1).max(512).default(32).describe('Embedding size (fastText `-dim` 100; 32 scores 4× faster and lost no F1 on our dev set, see docs/classifiers.md).'),
  hidden: z.number().int().min(0).max(1024).default(0).describe('Hidden ReLU units; 0 = linear, as fastText.'),
  lr: z.number().positive().default(0.1).describe("Learning rate (DCLM's fastText quality classifier: 0.1)."),
  epochs: z.number().int().min(1).max(1000).default(5).describe('Epochs (DCLM: 5; small label sets want more).'),
});
export type SgdOptions = z.infer<typeof SgdOptions>;

export interface TrainingExample {
  ids: Int32Array;
  /** Class index, or the regression target. */
  target: number;
}

export function trainFastText(
  examples: readonly TrainingExample[],
  shape: Omit<FastTextShape, 'dim' | 'hidden'>,
  options: SgdOptions,
  seed: number,
): FastTextModel {
  const model = new FastTextModel({ ...shape, dim: options.dim, hidden: options.hidden });
  const { dim, hidden, outputs } = model.shape;
  const rng = new SeededRandom(seed);
  // fastText: input vectors uniform in ±1/dim, output matrix zero.
  for (let i = 0; i < model.embedding.length; i++) model.embedding[i] = (rng.next() * 2 - 1) / dim;
  const limit = Math.sqrt(6 / (dim + Math.max(hidden, 1)));
  for (let i = 0; i < model.w1.length; i++) model.w1[i] = (rng.next() * 2 - 1) * limit;

  const regression = shape.task === 'regression';
  if (regression && examples.length > 0) {
    const mean = examples.reduce((s, e) => s + e.target, 0) / examples.length;
    const variance = examples.reduce((s, e) => s + (e.target - mean) ** 2, 0) / examples.length;
    model.targetShift = mean;
    model.targetScale = variance > 0 ? Math.sqrt(variance) : 1;
  }

  const inner = model.inner;
  const h = new Float64Array(dim);
  const a = new Float64Array(inner);
  const z = new Float64Array(outputs);
  const ga = new Float64Array(inner);
  const gh = new Float64Array(dim);
  const order = examples.map((_, i) => i);
  const totalSteps = options.epochs * examples.length;
  let step = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    rng.shuffle(order);
    for (const idx of order) {
      const ex = examples[idx]!;
      const lr = options.lr * (1 - step / totalSteps);
      step++;
      model.bag(ex.ids, h);
      model.activate(h, a);
      model.logits(a, z);
      // dz = dLoss/dz, in place.
      if (regression) {
        z[0] = z[0]! - (ex.target - model.targetShift) / model.targetScale;
      } else {
        softmaxInPlace(z);
        z[ex.target]! -= 1;
      }
      // Gradient w.r.t. the inner activations, before the output layer moves.
      for (let j = 0; j < inner; j++) {
        let s = 0;
        for (let c = 0; c < outputs; c++) s += model.w2[j * outputs + c]! * z[c]!;
        ga[j] = s;
      }
      for (let j = 0; j < inner; j++) {
        const aj = a[j]!;
        if (aj === 0) continue;
        for (let c = 0; c < outputs; c++) model.w2[j * outputs + c]! -= lr * aj * z[c]!;
      }
      for (let c = 0; c < outputs; c++) model.b2[c]! -= lr * z[c]!;
      if (hidden > 0) {
        for (let j = 0; j < hidden; j++) if (a[j]! <= 0) ga[j] = 0;
        for (let d = 0; d < dim; d++) {
          let s = 0;
          for (let j = 0; j < hidden; j++) s += model.w1[d * hidden + j]! * ga[j]!;
          gh[d] = s;
        }
        for (let d = 0; d < dim; d++) {
          const hd = h[d]!;
          for (let j = 0; j < hidden; j++) model.w1[d * hidden + j]! -= lr * hd * ga[j]!;
        }
        for (let j = 0; j < hidden; j++) model.b1[j]! -= lr * ga[j]!;
      } else {
        gh.set(ga);
      }
      // Every occurrence of a feature gets its share of the bag's gradient.
      const scale = lr / ex.ids.length;
      const e = model.embedding;
      for (let k = 0; k < ex.ids.length; k++) {
        const base = ex.ids[k]! * dim;
        for (let d = 0; d < dim; d++) e[base + d]! -= scale * gh[d]!;
      }
    }
  }
  return model;
}
