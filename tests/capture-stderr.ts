/** Collects what the CLI writes to stderr during a test; the real stream is restored after it. */
export function captureStderr(t: { after: (fn: () => void) => void }): { text: () => string } {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  t.after(() => {
    process.stderr.write = write;
  });
  return { text: () => chunks.join('') };
}
