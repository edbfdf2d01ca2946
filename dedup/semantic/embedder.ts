/** What semantic dedup needs from an embedding model: unit-length vectors for texts, in batches. */
export interface Embedder {
  readonly dim: number;
  /** A short description for statistics and the report (model and settings). */
  readonly description: string;
  /** Row-major `texts.length × dim`, each row of unit L2 norm (a zero row for an empty text). */
  embed(texts: string[]): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Scales each row of a row-major matrix to unit L2 norm (zero rows stay zero). */
export function normalizeRows(m: Float32Array, dim: number): Float32Array {
  for (let r = 0; r < m.length; r += dim) {
    let s = 0;
    for (let i = r; i < r + dim; i++) s += m[i]! * m[i]!;
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let i = r; i < r + dim; i++) m[i]! *= inv;
  }
  return m;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
