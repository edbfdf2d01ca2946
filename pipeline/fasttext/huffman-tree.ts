/** fastText's Huffman tree over label counts, which hierarchical softmax walks (lid.176 and supervised model files). */

/**
 * `HierarchicalSoftmaxLoss::buildTree`: the Huffman tree over the label counts (labels sorted by
 * decreasing count, as the dictionary stores them).
 */
export function huffmanTree(counts: number[]): { left: Int32Array; right: Int32Array } {
  const osz = counts.length;
  const size = 2 * osz - 1;
  const count = new Float64Array(size).fill(1e15);
  const left = new Int32Array(size).fill(-1);
  const right = new Int32Array(size).fill(-1);
  counts.forEach((c, i) => (count[i] = c));
  let leaf = osz - 1;
  let node = osz;
  for (let i = osz; i < size; i++) {
    const mini = [0, 0];
    for (let j = 0; j < 2; j++) mini[j] = leaf >= 0 && count[leaf]! < count[node]! ? leaf-- : node++;
    left[i] = mini[0]!;
    right[i] = mini[1]!;
    count[i] = count[mini[0]!]! + count[mini[1]!]!;
  }
  return { left, right };
}
