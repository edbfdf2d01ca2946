/**
 * The files a process task writes: kept/ (or, before a global stage, the segment file the next
 * segment reads), rejected/ and errors/, in the pipeline's output format.
 */
import type { Doc } from '../doc.ts';
import type { RunConfig } from '../config.ts';
import { JsonlWriter } from '../io/jsonl-writer.ts';
import { LayoutWriter, documentLayout, type RecordWriter } from '../io/document-layout.ts';
import { ParquetDocWriter } from '../io/parquet-doc-writer.ts';
import { extensionFor } from '../io/compression.ts';
import { layout, type RunPlan, type Task } from './run-plan.ts';
import type { SettledDoc } from './tallies.ts';

const ext = (config: RunConfig) => extensionFor(config.compression);

/** A writer that only creates its file when the first record arrives. */
class LazyWriter {
  private writer: JsonlWriter | null = null;
  constructor(private readonly path: string) {}
  write(record: unknown): Promise<void> | undefined {
    if (this.writer) return this.writer.write(record);
    return this.openThenWrite(record);
  }
  private async openThenWrite(record: unknown): Promise<void> {
    this.writer ??= await JsonlWriter.open(this.path);
    await this.writer.write(record);
  }
  async close(): Promise<void> {
    await this.writer?.close();
  }
  async abort(): Promise<void> {
    await this.writer?.abort();
  }
}

export const textBytes = (d: Doc) => Buffer.byteLength(d.text);

export function docRecord(d: Doc): { id: string; text: string; meta: Record<string, unknown> } {
  return { id: d.id, text: d.text, meta: d.meta };
}

/** The open outputs of a process task: kept (or the next segment's input), rejected, errors. */
export interface ProcessOutputs {
  kept: JsonlWriter | LayoutWriter<JsonlWriter> | ParquetDocWriter;
  rejected: LazyWriter | LayoutWriter<LazyWriter> | ParquetDocWriter;
  errors: LazyWriter;
  /** `kept` is the run's kept/ (the last segment), not the next segment's input. */
  final: boolean;
  /** Hands the task's tallies each document as it is written where it stays (tallies.ts). */
  settle: (d: SettledDoc) => void;
}

export async function openOutputs(plan: RunPlan, task: Task, settle: (d: SettledDoc) => void = () => {}): Promise<ProcessOutputs> {
  const { config } = plan;
  const k = task.step;
  const e = ext(config);
  const last = k === plan.segments.length - 1;
  // kept/ and rejected/ in the pipeline's output_format; what segments pass on stays Refinery's own.
  const docs = documentLayout(config.outputFormat ?? 'refinery');
  const inLayout = <W extends RecordWriter>(w: W, attributes?: W) => (docs.format === 'refinery' ? w : new LayoutWriter(w, docs, attributes));
  if (docs.format === 'parquet') {
    return {
      kept: last ? new ParquetDocWriter(docs.path(layout.kept(config.output, task.index, e))) : await JsonlWriter.open(layout.between(config.output, k, task.index)),
      rejected: new ParquetDocWriter(docs.path(layout.rejected(config.output, k, task.index, e)), { lazy: true }),
      errors: new LazyWriter(layout.errors(config.output, k, task.index, e)),
      final: last,
      settle,
    };
  }
  const rejectedPath = layout.rejected(config.output, k, task.index, e);
  const keptWriter = async () => {
    const keptPath = layout.kept(config.output, task.index, e);
    const documents = await JsonlWriter.open(docs.path(keptPath));
    return inLayout(documents, docs.attributes ? await JsonlWriter.open(docs.attributes.path(keptPath)) : undefined);
  };
  return {
    kept: last ? await keptWriter() : await JsonlWriter.open(layout.between(config.output, k, task.index)),
    rejected: inLayout(new LazyWriter(docs.path(rejectedPath)), docs.attributes ? new LazyWriter(docs.attributes.path(rejectedPath)) : undefined),
    errors: new LazyWriter(layout.errors(config.output, k, task.index, e)),
    final: last,
    settle,
  };
}

