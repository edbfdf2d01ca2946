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

/** Makes stderr a terminal, outside CI, for the test; both are restored after it. */
export function stderrOnTerminal(t: { after: (fn: () => void) => void }): void {
  const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
  const ci = process.env.CI;
  delete process.env.CI;
  Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
  t.after(() => {
    if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
    else delete (process.stderr as { isTTY?: boolean }).isTTY;
    if (ci !== undefined) process.env.CI = ci;
  });
}
