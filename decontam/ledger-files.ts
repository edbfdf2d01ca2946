/**
 * The contamination ledger on disk, every path and byte layout in this one file:
 *   <run>/decontam/manifest.json          n, partitions, shards, documents, normalisation
 *   <run>/decontam/part-00000.bin         records of 4 little-endian uint32 [hashHi, hashLo, shard, pos],
 *                                         sorted; one file per partition (partition = hashHi % partitions)
 *   <run>/decontam/docs/shard-00000.json  the ids of a shard's documents, by position
 * and the map phase's scratch files under the stage's work folder. A check reads the manifest,
 * then only the records of the item's n-grams, by binary search with positioned reads: its time
 * grows with the benchmark and the log of the corpus.
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { folderFiles, readRunFile, readRunText, type RunFiles } from '../pipeline/run-folder/files.ts';
import { join } from 'node:path';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';

export const RECORD_WORDS = 4;
const RECORD_BYTES = 4 * RECORD_WORDS;

export interface LedgerManifest {
  n: number;
  partitions: number;
  shards: number;
  documents: number;
  /** distinct (n-gram, document) pairs */
  records: number;
  normalisation: 'lowercase-letter-digit-words';
}

const five = (i: number) => String(i).padStart(5, '0');
export const ledgerDir = (outputDir: string) => join(outputDir, 'decontam');
export const partFile = (dir: string, p: number) => join(dir, `part-${five(p)}.bin`);
export const docsFile = (dir: string, shard: number) => join(dir, 'docs', `shard-${five(shard)}.json`);
const mapFile = (workDir: string, p: number, shard: number) => join(workDir, 'map', `part-${five(p)}`, `shard-${five(shard)}.bin`);

const bytesOf = (words: Uint32Array) => new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
const wordsOf = (buf: Buffer) => new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));

export async function writeMapRecords(workDir: string, partition: number, shard: number, sorted: Uint32Array): Promise<void> {
  await writeFileAtomic(mapFile(workDir, partition, shard), bytesOf(sorted));
}

export async function readMapRecords(files: RunFiles, workDir: string, partition: number, shard: number): Promise<Uint32Array> {
  return wordsOf(await readRunFile(files, mapFile(workDir, partition, shard)));
}

export async function writePartition(outputDir: string, partition: number, sorted: Uint32Array): Promise<void> {
  await writeFileAtomic(partFile(ledgerDir(outputDir), partition), bytesOf(sorted));
}

export async function writeShardIds(outputDir: string, shard: number, ids: string[]): Promise<void> {
  await mkdir(join(ledgerDir(outputDir), 'docs'), { recursive: true });
  await writeFileAtomic(docsFile(ledgerDir(outputDir), shard), JSON.stringify(ids) + '\n');
}

export async function readShardIds(runDir: string, shard: number, files: RunFiles = folderFiles): Promise<string[]> {
  return JSON.parse(await readRunText(files, docsFile(ledgerDir(runDir), shard))) as string[];
}

export async function writeManifest(outputDir: string, m: LedgerManifest): Promise<void> {
  await writeFileAtomic(join(ledgerDir(outputDir), 'manifest.json'), stableJson(m));
}

export async function readManifest(runDir: string): Promise<LedgerManifest> {
  return JSON.parse(await readFile(join(ledgerDir(runDir), 'manifest.json'), 'utf8')) as LedgerManifest;
}

/** Records of a partition's file found by binary search, without reading the file whole. */
export class PartitionReader {
  private constructor(
    private readonly fh: FileHandle,
    readonly count: number,
  ) {}

  static async open(runDir: string, partition: number): Promise<PartitionReader> {
    const fh = await open(partFile(ledgerDir(runDir), partition), 'r');
    const { size } = await fh.stat();
    return new PartitionReader(fh, size / RECORD_BYTES);
  }

  private readonly buf = Buffer.alloc(RECORD_BYTES);
  /** Records read from the file so far: what a check costs, whatever the machine's speed. */
  reads = 0;
  /**
   * Records already read, by index: every binary search starts with the same probes (the middle,
   * the quarters ...), so the first levels are read once per partition, not once per n-gram.
   */
  private readonly seen = new Map<number, [number, number, number, number]>();

  private async at(i: number): Promise<[number, number, number, number]> {
    const known = this.seen.get(i);
    if (known !== undefined) return known;
    this.reads++;
    await this.fh.read(this.buf, 0, RECORD_BYTES, i * RECORD_BYTES);
    const rec: [number, number, number, number] = [this.buf.readUInt32LE(0), this.buf.readUInt32LE(4), this.buf.readUInt32LE(8), this.buf.readUInt32LE(12)];
    if (this.seen.size < 1 << 16) this.seen.set(i, rec);
    return rec;
  }

  /** The (shard, pos) of every document holding the n-gram (hi, lo). */
  async lookup(hi: number, lo: number): Promise<[number, number][]> {
    let a = 0;
    let b = this.count;
    while (a < b) {
      const mid = (a + b) >>> 1;
      const [h, l] = await this.at(mid);
      if (h < hi || (h === hi && l < lo)) a = mid + 1;
      else b = mid;
    }
    const out: [number, number][] = [];
    for (let i = a; i < this.count; i++) {
      const [h, l, shard, pos] = await this.at(i);
      if (h !== hi || l !== lo) break;
      out.push([shard, pos]);
    }
    return out;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
