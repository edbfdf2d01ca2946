/**
 * The `tokenize` stage: the pipeline's product. A global stage so that the shard files, the global
 * shuffle and the manifest come out the same however the work is spread:
 * - map (per input shard i): tokenizes each document (BOS ... EOS) with Llama 3's tokenizer or a
 *   Hugging Face tokenizer.json (`tokenizer` option), emits
 *   as many copies as the mix plan says (one without a plan), and writes
 *   `<out>/tokens/shard-<i>-<part>.parquet` (or spills to shuffle buckets when shuffling);
 * - reduce: without shuffle, one partition that writes `<out>/tokens/_manifest.json`; with shuffle,
 *   one partition per shuffle bucket that writes the bucket's shuffled files, then finish (one task)
 *   writes the manifest;
 * - applier: keeps every document and records `meta.num_tokens` (tokens with BOS and EOS); a
 *   document the plan has no rate for goes to the error output (it is in no shard).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadPlanSampler } from '../sampler.ts';
import { stableJson, writeFileAtomic } from '../../pipeline/io/atomic.ts';
import type { Doc } from '../../pipeline/doc.ts';
import { RefineryError } from '../../pipeline/errors.ts';
import { KEEP, type DocStage, type GlobalStage, type ShardRef, type StageContext } from '../../pipeline/stage.ts';
import type { DocumentTokenizer } from '../../pipeline/tokenizer/document-tokenizer.ts';
import { HuggingFaceTokenizer } from '../../pipeline/tokenizer/huggingface-tokenizer.ts';
import { LLAMA3_TOKENIZER_NAME } from '../../pipeline/tokenizer/document-tokenizer.ts';
import { sharedLlama3Tokenizer } from '../../pipeline/tokenizer/llama3-tokenizer.ts';
import { TOKENS_DIR, type TokenizeOptions } from './tokenize-options.ts';
import { MANIFEST_FILE } from './manifest-names.ts';
import { BucketTally, buildManifest, checkManifestBalance, type ShardSummary, type TokenizeManifest } from './manifest.ts';
import { ShardSink, shardNumber } from './shard-sink.ts';
import { ShuffleSpill, readShuffleBucket } from './shuffle-spill.ts';
import { documentRow } from './token-rows.ts';
import { needAll, readRunFile, readRunText } from '../../pipeline/run-folder/files.ts';


const huggingFaceTokenizers = new Map<string, Promise<HuggingFaceTokenizer>>();

/** The tokenizer the options name (one per thread and file); a tokenizer.json path resolves against `baseDir`. */
export function documentTokenizer(options: Pick<TokenizeOptions, 'tokenizer' | 'bos_token' | 'eos_token'>, baseDir: string, keyPath = 'options'): Promise<DocumentTokenizer> {
  if (options.tokenizer === LLAMA3_TOKENIZER_NAME) {
    if (options.bos_token !== null || options.eos_token !== null) {
      return Promise.reject(new RefineryError(`${keyPath}.bos_token/eos_token: only for a tokenizer.json; llama3 uses <|begin_of_text|> and <|end_of_text|>`));
    }
    return Promise.resolve(sharedLlama3Tokenizer());
  }
  const path = resolve(baseDir, options.tokenizer);
  const key = `${path}\u0000${options.bos_token}\u0000${options.eos_token}`;
  let loading = huggingFaceTokenizers.get(key);
  if (!loading) {
    loading = HuggingFaceTokenizer.load(path, options, keyPath);
    loading.catch(() => huggingFaceTokenizers.delete(key));
    huggingFaceTokenizers.set(key, loading);
  }
  return loading;
}

/** The stage itself; `tokenize.ts` defines it and imports this module when a run creates it. */
export class TokenizeStage implements GlobalStage {
  readonly kind = 'global';
  readonly name = 'tokenize';
  /** One reduce task per shuffle bucket; without shuffle, the one that writes the manifest. */
  get partitions(): number {
    return this.options.shuffle_seed === null ? 1 : this.options.shuffle_buckets;
  }

  /** With shuffle, the manifest waits for every bucket's reduce task: one finish task writes it. */
  get finish(): ((shardCount: number) => Promise<void>) | undefined {
    return this.options.shuffle_seed === null ? undefined : (shardCount) => this.writeManifest(shardCount);
  }
  private readonly tokensDir: string;
  private readonly planPath: string | null;
  private readonly tokenizerPath: string | null;

  constructor(
    private readonly options: TokenizeOptions,
    private readonly ctx: StageContext,
  ) {
    this.tokensDir = join(ctx.outputDir, TOKENS_DIR);
    this.planPath = options.plan === null ? null : resolve(ctx.baseDir, options.plan);
    this.tokenizerPath = options.tokenizer === LLAMA3_TOKENIZER_NAME ? null : resolve(ctx.baseDir, options.tokenizer);
  }

  private tokenizer(): Promise<DocumentTokenizer> {
    return documentTokenizer(this.options, this.ctx.baseDir, `${this.ctx.keyPath}.options`);
  }

  private summaryPath(shard: number): string {
    return join(this.ctx.workDir, 'map', `shard-${shardNumber(shard)}.json`);
  }

  private countsPath(shard: number): string {
    return join(this.ctx.workDir, 'counts', `shard-${shardNumber(shard)}.i32`);
  }

  private failedPath(shard: number): string {
    return join(this.ctx.workDir, 'counts', `shard-${shardNumber(shard)}.failed.json`);
  }

  /** One key (parquet-wasm stores the map unordered): `refinery` = JSON of tokenizer and layout. */
  private metadata(tokenizer: DocumentTokenizer): Record<string, string> {
    return {
      refinery: JSON.stringify({
        tokenizer: tokenizer.name,
        vocabulary_sha256: tokenizer.vocabularySha256,
        bos_id: tokenizer.bosId,
        eos_id: tokenizer.eosId,
        seq_len: this.options.seq_len,
      }),
    };
  }

  private newSink(prefix: string, tokenizer: DocumentTokenizer): ShardSink {
    return new ShardSink({
      bosId: tokenizer.bosId,
      prefix: join(this.tokensDir, prefix),
      shardSize: this.options.shard_size,
      rowGroupBytes: this.options.row_group_size,
      seqLen: this.options.seq_len,
      metadata: this.metadata(tokenizer),
    });
  }

  async map(shard: ShardRef, docs: AsyncIterable<Doc>): Promise<void> {
    const tokenizer = await this.tokenizer();
    const copiesOf = this.planPath === null ? () => 1 : await loadPlanSampler(this.planPath, this.ctx.seed);
    const shuffleSeed = this.options.shuffle_seed;
    const sink = shuffleSeed === null ? this.newSink(`shard-${shardNumber(shard.index)}`, tokenizer) : null;
    const spill = shuffleSeed === null ? null : new ShuffleSpill(this.ctx.workDir, shard.index, shuffleSeed, this.options.shuffle_buckets);
    const tally = new BucketTally();
    const counts: number[] = [];
    /** Documents the plan could not place, by position: the applier sends them to the error output. */
    const failed: Record<number, string> = {};
    const summary: ShardSummary = { files: [], docs_in: 0, docs_out: 0, docs_errored: 0, tokens_in: 0, tokens_out: 0, buckets: [] };
    try {
      for await (const doc of docs) {
        let copies: number;
        let tokens: Int32Array;
        try {
          copies = copiesOf(doc);
          if (!Number.isInteger(copies) || copies < 0) throw new RefineryError(`${this.planPath}: document ${doc.id} got ${copies} copies`);
          tokens = tokenizer.encodeDocument(doc.text);
        } catch (e) {
          if (!(e instanceof RefineryError)) throw e;
          failed[counts.length] = e.message;
          counts.push(-1);
          summary.docs_errored++;
          continue;
        }
        const row = documentRow(doc, tokens);
        for (let copy = 0; copy < copies; copy++) {
          if (sink) await sink.add(row);
          else await spill!.add(counts.length, copy, row);
        }
        counts.push(tokens.length);
        tally.add(doc, copies, copies * tokens.length);
        summary.docs_in++;
        summary.tokens_in += tokens.length;
        summary.docs_out += copies;
        summary.tokens_out += copies * tokens.length;
      }
      if (sink) {
        summary.files = await sink.finish();
      } else {
        await spill!.finish();
      }
    } catch (e) {
      await sink?.abort();
      await spill?.abort();
      throw e;
    }
    summary.buckets = tally.toArray();
    const countBytes = new Int32Array(counts);
    await writeFileAtomic(this.countsPath(shard.index), new Uint8Array(countBytes.buffer));
    await writeFileAtomic(this.failedPath(shard.index), stableJson(failed));
    await writeFileAtomic(this.summaryPath(shard.index), stableJson(summary));
  }

  async reduce(partition: number, shardCount: number): Promise<void> {
    if (this.options.shuffle_seed === null) await this.writeManifest(shardCount);
    else await this.writeShuffled(partition, shardCount);
  }

  private async writeManifest(shardCount: number): Promise<void> {
    const summaries: ShardSummary[] = [];
    await needAll(this.ctx.files, Array.from({ length: shardCount }, (_, i) => this.summaryPath(i)));
    for (let i = 0; i < shardCount; i++) summaries.push(JSON.parse(await readRunText(this.ctx.files, this.summaryPath(i))) as ShardSummary);
    if (this.options.shuffle_seed !== null) summaries.push(...(await this.shuffledSummaries()));
    const tokenizer = await this.tokenizer();
    const plan = this.planPath === null ? null : { path: this.planPath, sha256: sha256(await readFile(this.planPath)), seed: this.ctx.seed };
    // Llama 3's hash leaves out the tokenizer options, so that it is what it was before they existed.
    const { tokenizer: _name, bos_token: _bos, eos_token: _eos, ...hashedOptions } = this.options;
    const configHash = sha256(stableJson({
      options: { ...hashedOptions, plan: plan?.sha256 ?? null },
      plan_seed: plan?.seed ?? null,
      tokenizer: tokenizer.vocabularySha256,
      ...(this.tokenizerPath === null ? {} : { special_ids: [tokenizer.bosId, tokenizer.eosId] }),
    }));
    const manifest: TokenizeManifest = buildManifest(summaries, {
      tokenizer: {
        name: tokenizer.name, vocab_size: tokenizer.vocabSize, vocabulary_sha256: tokenizer.vocabularySha256, bos_id: tokenizer.bosId, eos_id: tokenizer.eosId,
        ...(this.tokenizerPath === null ? {} : { path: this.tokenizerPath }),
      },
      config_hash: configHash,
      format: {
        layout: this.options.seq_len === null ? 'documents' : 'packed',
        seq_len: this.options.seq_len,
        columns: this.options.seq_len === null
          ? ['id', 'input_ids', 'num_tokens', 'source', 'language', 'category', 'quality', 'quality_band']
          : ['input_ids', 'offsets', 'doc_ids', 'num_tokens'],
      },
      shuffle: this.options.shuffle_seed === null ? null : { seed: this.options.shuffle_seed, buckets: this.options.shuffle_buckets },
      plan,
    });
    checkManifestBalance(manifest, join(this.tokensDir, MANIFEST_FILE));
    await writeFileAtomic(join(this.tokensDir, MANIFEST_FILE), stableJson(manifest));
    await writeFileAtomic(join(this.ctx.outputDir, 'stats', `${this.name}.json`), stableJson({ manifest: join(TOKENS_DIR, MANIFEST_FILE), totals: manifest.totals, by_source: manifest.by_source }));
  }

  private bucketSummaryPath(bucket: number): string {
    return join(this.ctx.workDir, 'shuffled', `bucket-${shardNumber(bucket)}.json`);
  }

  /** Shuffle reduce of one bucket: its rows from every shard's spill file, in key order, into `shuffled-<bucket>-<part>.parquet`. */
  private async writeShuffled(bucket: number, shardCount: number): Promise<void> {
    const rows = await readShuffleBucket(this.ctx.files, this.ctx.workDir, bucket, this.options.shuffle_buckets, shardCount);
    let files: ShardSummary['files'] = [];
    if (rows.length > 0) {
      const sink = this.newSink(`shuffled-${shardNumber(bucket)}`, await this.tokenizer());
      try {
        for (const row of rows) await sink.add(row);
        files = await sink.finish();
      } catch (e) {
        await sink.abort();
        throw e;
      }
    }
    await writeFileAtomic(this.bucketSummaryPath(bucket), stableJson(files));
  }

  /** The files of every shuffle bucket, in bucket order, as the manifest lists them. */
  private async shuffledSummaries(): Promise<ShardSummary[]> {
    const out: ShardSummary[] = [];
    for (let bucket = 0; bucket < this.options.shuffle_buckets; bucket++) {
      const files = JSON.parse(await readRunText(this.ctx.files, this.bucketSummaryPath(bucket))) as ShardSummary['files'];
      if (files.length > 0) out.push({ files, docs_in: 0, docs_out: 0, docs_errored: 0, tokens_in: 0, tokens_out: 0, buckets: [] });
    }
    return out;
  }

  async applier(shard: ShardRef): Promise<DocStage> {
    const bytes = await readRunFile(this.ctx.files, this.countsPath(shard.index));
    const counts = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const failed = JSON.parse(await readRunText(this.ctx.files, this.failedPath(shard.index))) as Record<string, string>;
    let next = 0;
    return {
      kind: 'annotator',
      name: this.name,
      process: (docs) =>
        docs.map((doc) => {
          if (next >= counts.length) throw new RefineryError(`tokenize: shard ${shard.index} has more documents than its map phase saw (${counts.length})`);
          const position = next++;
          if (counts[position] === -1) throw new RefineryError(failed[position] ?? `tokenize: document ${doc.id} was not tokenized`);
          doc.meta.num_tokens = counts[position]!;
          return KEEP;
        }),
    };
  }
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
