/** Progress on stderr: a live line on a terminal, one structured line per finished task otherwise. */
export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  private phase = '';
  private total = 0;
  private done = 0;
  private docs = 0;
  private bytes = 0;
  private live = new Map<number, { docs: number; bytes: number }>();
  private started = 0;
  private lastDraw = 0;

  constructor(private readonly quiet = false) {}

  startPhase(name: string, total: number, alreadyDone: number): void {
    this.phase = name;
    this.total = total;
    this.done = alreadyDone;
    this.docs = 0;
    this.bytes = 0;
    this.live.clear();
    this.started = performance.now();
    if (alreadyDone) this.log(`${name}: ${alreadyDone} of ${total} tasks already finished, skipped`);
  }

  update(slot: number, docs: number, bytes: number): void {
    this.live.set(slot, { docs, bytes });
    this.draw(false);
  }

  /** `docs` is undefined for tasks that do not stream documents (reduce). */
  taskDone(slot: number, label: string, docs: number | undefined, bytes: number): void {
    this.live.delete(slot);
    this.done++;
    this.docs += docs ?? 0;
    this.bytes += bytes;
    if (this.tty) this.draw(true);
    else this.log(`${this.phase}: ${label} done (${this.done}/${this.total})${docs === undefined ? '' : `, ${docs} docs; ${this.rate()}`}`);
  }

  endPhase(): void {
    if (this.tty && !this.quiet) process.stderr.write('\n');
  }

  log(line: string): void {
    if (this.quiet) return;
    if (this.tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(`refinery: ${line}\n`);
  }

  private counts(): { docs: number; bytes: number } {
    let docs = this.docs;
    let bytes = this.bytes;
    for (const l of this.live.values()) {
      docs += l.docs;
      bytes += l.bytes;
    }
    return { docs, bytes };
  }

  private rate(): string {
    const { docs, bytes } = this.counts();
    const secs = Math.max(1e-3, (performance.now() - this.started) / 1000);
    return `${Math.round(docs / secs)} docs/s, ${(bytes / 1e6 / secs).toFixed(1)} MB/s`;
  }

  private draw(force: boolean): void {
    if (!this.tty || this.quiet) return;
    const now = performance.now();
    if (!force && now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const frac = this.total ? this.done / this.total : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const secs = (now - this.started) / 1000;
    // An estimate only while the phase runs and has finished something to estimate from.
    const eta = frac > 0 && frac < 1 ? ` · ETA ${Math.round((secs / frac) * (1 - frac))}s` : '';
    const { docs } = this.counts();
    const flow = docs > 0 ? ` · ${docs} docs · ${this.rate()}` : '';
    process.stderr.write(`\r\x1b[K${this.phase} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total}${flow}${eta}`);
  }
}
