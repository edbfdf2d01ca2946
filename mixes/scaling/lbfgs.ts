/**
 * Limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", Algorithm 7.4 and 7.5) for
 * small smooth problems: the two-loop recursion for the search direction and a backtracking
 * line search on the Armijo condition. Stops when the relative decrease of the objective falls
 * below `ftol` (SciPy's L-BFGS-B default) or the largest gradient component below `gtol`.
 */

export interface Objective {
  (x: readonly number[]): { value: number; gradient: number[] };
}

export interface LbfgsOptions {
  /** Pairs (s, y) kept for the inverse-Hessian approximation. */
  memory?: number;
  maxIterations?: number;
  /** Relative decrease of f between iterations below which the search stops (SciPy's factr · eps). */
  ftol?: number;
  /** Largest |gradient component| below which the search stops. */
  gtol?: number;
}

export interface LbfgsResult {
  x: number[];
  value: number;
  iterations: number;
  converged: boolean;
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);

export function minimizeLbfgs(f: Objective, x0: readonly number[], options: LbfgsOptions = {}): LbfgsResult {
  const memory = options.memory ?? 10;
  const maxIterations = options.maxIterations ?? 500;
  const ftol = options.ftol ?? 2.220446049250313e-9;
  const gtol = options.gtol ?? 1e-5;
  let x = [...x0];
  let { value, gradient } = f(x);
  if (!Number.isFinite(value)) return { x, value, iterations: 0, converged: false };
  const S: number[][] = [];
  const Y: number[][] = [];
  for (let it = 1; it <= maxIterations; it++) {
    if (Math.max(...gradient.map(Math.abs)) < gtol) return { x, value, iterations: it - 1, converged: true };
    // Two-loop recursion: d = −H·g with H the L-BFGS inverse-Hessian approximation.
    const q = [...gradient];
    const alphas: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      const a = dot(S[k]!, q) / dot(Y[k]!, S[k]!);
      alphas[k] = a;
      for (let i = 0; i < q.length; i++) q[i]! -= a * Y[k]![i]!;
    }
    const gamma = S.length ? dot(S[S.length - 1]!, Y[Y.length - 1]!) / dot(Y[Y.length - 1]!, Y[Y.length - 1]!) : 1 / Math.max(1, Math.sqrt(dot(gradient, gradient)));
    for (let i = 0; i < q.length; i++) q[i]! *= gamma;
    for (let k = 0; k < S.length; k++) {
      const b = dot(Y[k]!, q) / dot(Y[k]!, S[k]!);
      for (let i = 0; i < q.length; i++) q[i]! += S[k]![i]! * (alphas[k]! - b);
    }
    let direction = q.map((v) => -v);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // The approximation lost positive definiteness: restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      direction = gradient.map((v) => -v);
      slope = -dot(gradient, gradient);
    }
    let step = 1;
    let next: { x: number[]; value: number; gradient: number[] } | undefined;
    for (let tries = 0; tries < 60; tries++, step /= 2) {
      const xn = x.map((v, i) => v + step * direction[i]!);
      const r = f(xn);
      if (Number.isFinite(r.value) && r.value <= value + 1e-4 * step * slope) {
        next = { x: xn, ...r };
        break;
      }
    }
    if (!next) return { x, value, iterations: it, converged: false };
    const s = next.x.map((v, i) => v - x[i]!);
    const y = next.gradient.map((v, i) => v - gradient[i]!);
    if (dot(s, y) > 1e-12 * Math.sqrt(dot(y, y) * dot(s, s))) {
      S.push(s);
      Y.push(y);
      if (S.length > memory) {
        S.shift();
        Y.shift();
      }
    }
    // Relative to f itself, not to max(|f|, 1): a Huber objective on log loss is often far below 1.
    const decrease = (value - next.value) / Math.max(Math.abs(value), Math.abs(next.value), Number.MIN_VALUE);
    x = next.x;
    value = next.value;
    gradient = next.gradient;
    if (decrease <= ftol) return { x, value, iterations: it, converged: true };
  }
  return { x, value, iterations: maxIterations, converged: false };
}
