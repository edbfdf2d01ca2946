/**
 * fastText itself (fasttext.wasm.js, fastText's C++ compiled to WebAssembly) as the reference that
 * our readers of lid.176 and of supervised model files are checked against.
 */
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
