/**
 * Progress on stderr. On a terminal, one live line: the run's input read so far by bytes (a bar,
 * the rate, the time left) and the phase's tasks; elsewhere (a pipe, CI), one line per finished
 * task. How far the input is read is measured in bytes of the input files: a finished shard
 * counts its own bytes, a shard being read the bytes of text it has yielded, converted by the
 * ratio of file bytes to text bytes of finished shards (of the same file, else of files
 * compressed alike), and never more than its own bytes.
 */
import { statInput } from '../io/storage.ts';
import type { RunPlan, Task } from './run-plan.ts';
import { taskId } from './run-plan.ts';
import type { Logger } from 'pino';

/** Bytes of each input shard: its file's size, shared equally among the stripes of a striped file. */
export async function shardBytes(plan: RunPlan): Promise<number[]> {
  const sizes = new Map<string, number>();
  for (const file of new Set(plan.shards.map((s) => s.file))) sizes.set(file, (await statInput(file))?.size ?? 0);
  return plan.shards.map((s) => (sizes.get(s.file) ?? 0) / s.parts);
}

const isCompressed = (file: string) => /\.(gz|zst|parquet)$/i.test(file);

/** Before a shard of its kind has finished, how many file bytes a byte of text is guessed to cost: compressed inputs are about a third of their text. */
const priorRatio = (file: string) => (isCompressed(file) ? 0.3 : 1);

/** File bytes per byte of text, learnt from finished shards: per file, and per kind (compressed or not). */
class ReadRatios {
  private readonly sums = new Map<string, { input: number; text: number }>();

  finished(file: string, input: number, text: number): void {
    for (const key of [`file:${file}`, `kind:${isCompressed(file)}`]) {
      const s = this.sums.get(key) ?? { input: 0, text: 0 };
      s.input += input;
      s.text += text;
      this.sums.set(key, s);
    }
  }

  of(file: string): number {
    for (const key of [`file:${file}`, `kind:${isCompressed(file)}`]) {
      const s = this.sums.get(key);
      if (s && s.text > 0) return s.input / s.text;
    }
    return priorRatio(file);
  }
}

/** The input read so far: the finished shards' bytes, and each running shard's text converted by its ratio, below its own bytes. */
function inputRead(done: number, live: Iterable<{ text: number; shardBytes: number; ratio: number }>): number {
  let read = done;
  for (const l of live) read += Math.min(l.text * l.ratio, l.shardBytes * 0.99);
  return read;
}

/** Input bytes read from the run-wide counts a queue run records: exact for finished shards, shards being read estimated with one ratio for the run. */
export class InputEstimate {
  doneInput = 0;
  doneText = 0;

  constructor(
    readonly total: number,
    readonly prior = 1,
  ) {}

  finished(inputBytes: number, textBytes: number): void {
    this.doneInput += inputBytes;
    this.doneText += textBytes;
  }

  /** Input bytes read, given the text bytes that shards being read have yielded so far. */
  read(liveText: number): number {
    const ratio = this.doneText > 0 ? this.doneInput / this.doneText : this.prior;
    // A shard in flight is never counted as finished: the estimate stays below what is left.
    return this.doneInput + Math.min(liveText * ratio, Math.max(0, this.total - this.doneInput) * 0.99);
  }
}

/** `12.3 MB`, `1.20 GB`: decimal units, as file sizes are usually shown. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return `${u === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 2 : 1)} ${units[u]}`;
}

/** `45 s`, `12 min`, `3.5 h`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** `[#######.................]`: `frac` of `width` cells filled. */
export function bar(frac: number, width = 24): string {
  const filled = Math.max(0, Math.min(width, Math.round(frac * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/**
 * One line for the input read so far: bar, percentage, bytes of total, rate and time left. The
 * rate is over `seconds`, the time the reading has taken; no time left until something was read.
 */
export function inputLine(read: number, total: number, seconds: number): string {
  const frac = total > 0 ? Math.min(1, read / total) : 0;
  const rate = seconds > 0 ? read / seconds : 0;
  const eta = rate > 0 && frac < 1 ? ` · ETA ${formatSeconds((total - read) / rate)}` : '';
  return `${bar(frac)} ${(frac * 100).toFixed(0).padStart(3)}% of input · ${formatBytes(read)} of ${formatBytes(total)} · ${formatBytes(rate)}/s${eta}`;
}

export class Progress {
  private tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  private runId = '';
  private phase = '';
  private total = 0;
  private done = 0;
  private docs = 0;
  private bytes = 0;
  private live = new Map<number, { docs: number; bytes: number; task: Task | null }>();
  private started = 0;
  private lastDraw = 0;
  /** The run's input: its shards' files and bytes, the bytes of finished shards, the ratios learnt from them. */
  private plan: RunPlan | null = null;
  private sizes: number[] = [];
  private inputTotal = 0;
  private inputDone = 0;
  private readonly ratios = new ReadRatios();
  private shownRead = 0;
  private readingPhase = false;

  /** With `logger`, every line is a log line of it (JSON: level, time, run and task ids) and there is no live line. */
  constructor(
    private readonly quiet = false,
    private readonly logger?: Logger,
  ) {
    if (logger) this.tty = false;
  }

  /** The input shards' bytes (`shardBytes`), for the bar by bytes; without it the bar counts tasks. */
  async measureInputs(plan: RunPlan): Promise<void> {
    this.runId = plan.configHash;
    if (this.quiet) return;
    this.sizes = await shardBytes(plan);
    this.plan = plan;
  }

  /** A phase of `tasks`, of which `todo` are to run (the others finished in an earlier run). */
  startPhase(name: string, tasks: Task[], todo: Task[]): void {
    const alreadyDone = tasks.length - todo.length;
    this.phase = name;
    this.total = tasks.length;
    this.done = alreadyDone;
    this.docs = 0;
    this.bytes = 0;
    this.live.clear();
    this.started = performance.now();
    const reads = (t: Task) => t.kind === 'process' && t.step === 0;
    this.readingPhase = this.plan !== null && tasks.some(reads);
    if (this.readingPhase) {
      // What an earlier, interrupted run read is neither in the bar nor in the rate.
      this.inputTotal = todo.filter(reads).reduce((a, t) => a + (this.sizes[t.index] ?? 0), 0);
      this.inputDone = 0;
      this.shownRead = 0;
    }
    if (alreadyDone) this.log(`${name}: ${alreadyDone} of ${tasks.length} tasks already finished, skipped`);
  }

  update(slot: number, docs: number, bytes: number, task: Task | null = null): void {
    this.live.set(slot, { docs, bytes, task });
    this.draw(false);
  }

  /** `docs` is undefined for tasks that do not stream documents (reduce). */
  taskDone(slot: number, task: Task, docs: number | undefined, bytes: number): void {
    this.live.delete(slot);
    this.done++;
    this.docs += docs ?? 0;
    this.bytes += bytes;
    const file = this.plan?.shards[task.index]?.file;
    if (this.readingPhase && task.kind === 'process' && task.step === 0 && file !== undefined) {
      const size = this.sizes[task.index] ?? 0;
      this.inputDone += size;
      this.ratios.finished(file, size, bytes);
    }
    if (this.tty) this.draw(true);
    else if (this.logger && !this.quiet) this.logger.info({ run: this.runId, task: taskId(task), phase: this.phase, done: this.done, tasks: this.total, ...(docs === undefined ? {} : { docs, bytes }) }, `done (${this.done}/${this.total})`);
    else this.log(`${this.phase}: ${taskId(task)} done (${this.done}/${this.total})${docs === undefined ? '' : `, ${docs} docs; ${this.rate()}`}`);
  }

  endPhase(): void {
    if (this.tty && !this.quiet) process.stderr.write('\n');
  }

  log(line: string): void {
    if (this.quiet) return;
    if (this.logger) {
      this.logger.info({ run: this.runId }, line);
      return;
    }
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

  /** The live line, cut to the terminal's width so that `\r` redraws it in place. */
  private draw(force: boolean): void {
    if (!this.tty || this.quiet) return;
    const now = performance.now();
    if (!force && now - this.lastDraw < 200) return;
    this.lastDraw = now;
    let line: string;
    if (this.readingPhase && this.plan) {
      const live = [];
      for (const l of this.live.values()) {
        const file = l.task ? this.plan.shards[l.task.index]?.file : undefined;
        if (l.task && file !== undefined) live.push({ text: l.bytes, shardBytes: this.sizes[l.task.index] ?? 0, ratio: this.ratios.of(file) });
      }
      // Never back: a ratio learnt from a shard that finished may lower the estimate of the others; the bar waits for them.
      this.shownRead = Math.max(this.shownRead, inputRead(this.inputDone, live));
      line = `${this.phase} ${this.done}/${this.total} tasks · ${inputLine(this.shownRead, this.inputTotal, (now - this.started) / 1000)}`;
    } else {
      const frac = this.total ? this.done / this.total : 1;
      const secs = (now - this.started) / 1000;
      // An estimate only while the phase runs and has finished something to estimate from.
      const eta = frac > 0 && frac < 1 ? ` · ETA ${formatSeconds((secs / frac) * (1 - frac))}` : '';
      const { docs } = this.counts();
      const flow = docs > 0 ? ` · ${docs} docs · ${this.rate()}` : '';
      line = `${this.phase} ${bar(frac)} ${this.done}/${this.total}${flow}${eta}`;
    }
    const width = process.stderr.columns || 120;
    process.stderr.write(`\r\x1b[K${line.length >= width ? `${line.slice(0, width - 2)}…` : line}`);
  }
}
