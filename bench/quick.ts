/**
 * Quick mode, BENCH_QUICK=1: the test suite (tests/benchmarks-quick.test.ts) runs every benchmark
 * this way so that none of them rots. Tiny generated input (never ../shared/devdata), one
 * repetition, the same code paths and tables as the full run; its figures mean nothing.
 */
export const QUICK = process.env.BENCH_QUICK === '1';

/** `full` in a benchmark run, `quick` in quick mode. */
export function sized<T>(full: T, quick: T): T {
  return QUICK ? quick : full;
}
