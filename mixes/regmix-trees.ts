/**
 * Gradient-boosted regression trees (Friedman 2001, least squares), the regression family RegMix
 * itself uses (LightGBM): each tree fits the residuals of the ensemble so far, shrunk by the
 * learning rate. Exact greedy splits on the mixture weights; small enough to read, deterministic
 * (no sampling).
 */

export interface BoostedTrees {
  base: number;
  learning_rate: number;
  /** Each tree as flat arrays: node i splits on `feature[i]` at `threshold[i]` (w ≤ t goes left), or is a leaf (`feature[i] = -1`) with `value[i]`. */
  trees: { feature: number[]; threshold: number[]; left: number[]; right: number[]; value: number[] }[];
}

export interface BoostingOptions {
  trees?: number;
  learningRate?: number;
  maxDepth?: number;
  minLeaf?: number;
}

type Tree = BoostedTrees['trees'][number];

function growTree(X: readonly (readonly number[])[], presorted: number[][], r: readonly number[], maxDepth: number, minLeaf: number): Tree {
  const tree: Tree = { feature: [], threshold: [], left: [], right: [], value: [] };
  const features = X[0]!.length;
  const goesLeft = new Uint8Array(X.length);
  // Rows of a node sorted by each feature; a split partitions every list in order, so nothing is sorted twice.
  const node = (byFeature: number[][], depth: number): number => {
    const rows = byFeature[0]!;
    const id = tree.feature.length;
    const total = rows.reduce((a, i) => a + r[i]!, 0);
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(total / rows.length);
    if (depth >= maxDepth || rows.length < 2 * minLeaf) return id;
    // The split that most reduces the squared error: maximise sum_L²/n_L + sum_R²/n_R.
    let best = { gain: 1e-12, feature: -1, threshold: 0 };
    const base = (total * total) / rows.length;
    for (let f = 0; f < features; f++) {
      const sorted = byFeature[f]!;
      let sumLeft = 0;
      for (let k = 0; k < sorted.length - 1; k++) {
        sumLeft += r[sorted[k]!]!;
        const here = X[sorted[k]!]![f]!;
        const next = X[sorted[k + 1]!]![f]!;
        const nLeft = k + 1;
        if (here === next || nLeft < minLeaf || sorted.length - nLeft < minLeaf) continue;
        const sumRight = total - sumLeft;
        const gain = (sumLeft * sumLeft) / nLeft + (sumRight * sumRight) / (sorted.length - nLeft) - base;
        if (gain > best.gain) best = { gain, feature: f, threshold: (here + next) / 2 };
      }
    }
    if (best.feature < 0) return id;
    for (const i of rows) goesLeft[i] = X[i]![best.feature]! <= best.threshold ? 1 : 0;
    const left = byFeature.map((list) => list.filter((i) => goesLeft[i] === 1));
    const right = byFeature.map((list) => list.filter((i) => goesLeft[i] === 0));
    tree.feature[id] = best.feature;
    tree.threshold[id] = best.threshold;
    tree.left[id] = node(left, depth + 1);
    tree.right[id] = node(right, depth + 1);
    return id;
  };
  node(presorted, 0);
  return tree;
}

function treeValue(t: Tree, w: readonly number[]): number {
  let i = 0;
  while (t.feature[i]! >= 0) i = w[t.feature[i]!]! <= t.threshold[i]! ? t.left[i]! : t.right[i]!;
  return t.value[i]!;
}

export function predictBoosted(m: BoostedTrees, w: readonly number[]): number {
  let y = m.base;
  for (const t of m.trees) y += m.learning_rate * treeValue(t, w);
  return y;
}

export function fitBoostedTrees(X: readonly (readonly number[])[], y: readonly number[], options: BoostingOptions = {}): BoostedTrees {
  const learningRate = options.learningRate ?? 0.05;
  const model: BoostedTrees = { base: y.reduce((a, b) => a + b, 0) / y.length, learning_rate: learningRate, trees: [] };
  const prediction = y.map(() => model.base);
  const all = X.map((_, i) => i);
  const presorted = Array.from({ length: X[0]!.length }, (_, f) => [...all].sort((a, b) => X[a]![f]! - X[b]![f]! || a - b));
  for (let t = 0; t < (options.trees ?? 300); t++) {
    const residual = y.map((v, i) => v - prediction[i]!);
    const tree = growTree(X, presorted, residual, options.maxDepth ?? 4, options.minLeaf ?? 5);
    model.trees.push(tree);
    X.forEach((w, i) => {
      prediction[i]! += learningRate * treeValue(tree, w);
    });
  }
  return model;
}
