/**
 * A worker's Prometheus metrics (`refinery worker --metrics-port`), served at /metrics with
 * prom-client: tasks by kind and outcome, documents and bytes read (counted as tasks report
 * progress, so a scrape during a long task sees it move), documents that errored, task seconds,
 * tasks in flight, and Node's process metrics.
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskResult } from '../engine/markers.ts';
import type { TaskKind } from '../engine/run-plan.ts';
import { RefineryError } from '../errors.ts';

export type TaskOutcome = 'done' | 'skipped' | 'failed' | 'handed_back' | 'cancelled' | 'paused';

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly tasks = new Counter({ name: 'refinery_tasks_total', help: 'Tasks this worker ended, by task kind and outcome (done, skipped: found finished, failed, handed_back, cancelled, paused: put back while its run is paused).', labelNames: ['kind', 'outcome'] as const, registers: [this.registry] });
  private readonly documents = new Counter({ name: 'refinery_documents_read_total', help: 'Input documents read by first-phase tasks.', registers: [this.registry] });
  private readonly bytes = new Counter({ name: 'refinery_text_bytes_read_total', help: 'Bytes of text (UTF-8) of the input documents read by first-phase tasks.', registers: [this.registry] });
  private readonly inputBytes = new Counter({ name: 'refinery_input_bytes_read_total', help: 'Bytes of the input files whose shards finished tasks read.', registers: [this.registry] });
  private readonly errors = new Counter({ name: 'refinery_document_errors_total', help: 'Documents that went to errors/: unreadable records and documents a stage threw on.', registers: [this.registry] });
  private readonly seconds = new Histogram({ name: 'refinery_task_seconds', help: 'Wall time of the tasks this worker finished, by task kind.', labelNames: ['kind'] as const, buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400], registers: [this.registry] });
  private readonly inFlight = new Gauge({ name: 'refinery_tasks_in_flight', help: 'Tasks this worker is running now.', registers: [this.registry] });
  /** What each task in flight has reported so far, so that a later report adds only the difference. */
  private readonly reported = new Map<string, { docs: number; bytes: number }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'refinery_worker_' });
  }

  started(job: string): void {
    this.inFlight.inc();
    this.reported.set(job, { docs: 0, bytes: 0 });
  }

  /** A first-phase task's progress: documents and text bytes read so far. */
  progress(job: string, docs: number, bytes: number): void {
    const last = this.reported.get(job);
    if (!last) return;
    this.documents.inc(Math.max(0, docs - last.docs));
    this.bytes.inc(Math.max(0, bytes - last.bytes));
    last.docs = Math.max(last.docs, docs);
    last.bytes = Math.max(last.bytes, bytes);
  }

  finished(job: string, kind: TaskKind, result: TaskResult, seconds: number, inputBytes: number): void {
    if (result.read) this.progress(job, result.read.docs, result.read.bytes);
    this.ended(job, kind, 'done');
    this.seconds.observe({ kind }, seconds);
    this.inputBytes.inc(inputBytes);
    this.errors.inc((result.read?.errors ?? 0) + result.stages.reduce((a, s) => a + s.errored, 0));
  }

  /** A task that did not finish here (or was found finished): counted by outcome. */
  ended(job: string, kind: TaskKind, outcome: TaskOutcome): void {
    if (this.reported.delete(job)) this.inFlight.dec();
    this.tasks.inc({ kind, outcome });
  }

  /** Serves /metrics on `port` (all interfaces, as Prometheus scrapes from elsewhere); resolves once listening. */
  async serve(port: number, host = '0.0.0.0'): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end('metrics at /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new RefineryError(`--metrics-port ${port}: cannot listen (${e.code ?? e.message}${e.code === 'EADDRINUSE' ? ': another process uses the port' : ''})`)));
      server.listen(port, host, () => resolve());
    });
    return server;
  }
}
