/**
 * The peak memory of a task: V8 heap in use plus array buffers, sampled every 50 ms while the task
 * runs, at its end, and whenever a stage calls `notePeakMemory()` (after building a large array,
 * since a timer cannot fire during synchronous work). Both figures are per thread (per V8
 * isolate), so in a task thread they are the task's own; one task is measured at a time per thread.
 */
let peak = 0;

export function notePeakMemory(): void {
  const m = process.memoryUsage();
  const bytes = m.heapUsed + m.arrayBuffers;
  if (bytes > peak) peak = bytes;
}

export async function measurePeakMemory<T>(fn: () => Promise<T>): Promise<{ value: T; peakBytes: number }> {
  peak = 0;
  notePeakMemory();
  const timer = setInterval(notePeakMemory, 50);
  timer.unref();
  try {
    const value = await fn();
    notePeakMemory();
    return { value, peakBytes: peak };
  } finally {
    clearInterval(timer);
  }
}
