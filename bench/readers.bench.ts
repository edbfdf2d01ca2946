/**
 * Reader throughput: Refinery's JSONL.gz and Parquet readers against a plain `zlib` + `JSON.parse`
 * loop over the same ~50 MB of JSONL, in the same run (plus the two Parquet engines alone:
 * DuckDB, which the reader uses, and parquet-wasm + apache-arrow); and the WARC reader (HTML
 * main-text extraction) against warcio parsing alone. Each measurement runs in its own child process, so
 * its peak RSS is its own. MB/s are megabytes of uncompressed JSONL (the same documents for
 * every JSONL/Parquet row) or of uncompressed WARC, per second; each figure is the best of
 * three runs.
 *
 *   node --import tsx bench/readers.bench.ts
 *
 * Text: the real documents of ../shared/devdata (web, quality) when that folder is there,
 * cycled to ~50 MB; otherwise seeded generated text. BENCH_QUICK=1: see bench/quick.ts.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { openAsBlob } from 'node:fs';
import { WARCParser } from 'warcio';
import { tableFromIPC } from 'apache-arrow';
import { ParquetFile, type RecordBatch } from 'parquet-wasm/node';
import { readDocs } from '../pipeline/io/read.ts';
import { devdataFile } from './devdata.ts';
import { sized } from './quick.ts';

const here = dirname(fileURLToPath(import.meta.url));
const TARGET_BYTES = sized(50e6, 3e5);
const RUNS = sized(3, 1);

type Measure = 'zlib-json-parse' | 'jsonl-reader' | 'parquet-reader' | 'parquet-arrow-scan' | 'duckdb-scan' | 'warcio-parse' | 'warc-reader';

interface Result {
  docs: number;
  seconds: number;
  maxRssMb: number;
}

/** One measurement, run inside a child process. */
async function measure(kind: Measure, file: string): Promise<Result> {
  const t0 = performance.now();
  let docs = 0;
  if (kind === 'zlib-json-parse') {
    let rest = '';
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }).pipe(createGunzip()).setEncoding('utf8') as AsyncIterable<string>) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) if (l && typeof (JSON.parse(l) as { text: unknown }).text === 'string') docs++;
    }
    if (rest) docs++;
  } else if (kind === 'parquet-arrow-scan') {
    // The alternative the reader was measured against: parquet-wasm + apache-arrow, every value read.
    const f = await ParquetFile.fromFile(await openAsBlob(file));
    const reader = ((await f.stream({ batchSize: 1024 })) as ReadableStream<RecordBatch>).getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      const t = tableFromIPC(next.value.intoIPCStream());
      const cols = t.schema.fields.map((_, k) => t.getChildAt(k)!);
      for (let i = 0; i < t.numRows; i++) {
        for (const c of cols) c.get(i);
        docs++;
      }
    }
  } else if (kind === 'duckdb-scan') {
    // DuckDB's native Parquet scanner alone, one thread, every value to JS: what the reader builds on.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
    const result = await db.stream(`SELECT * FROM read_parquet('${file}')`);
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      chunk.getColumns();
      docs += chunk.rowCount;
    }
  } else if (kind === 'warcio-parse') {
    for await (const r of new WARCParser(createReadStream(file, { highWaterMark: 1 << 20 }).pipe(createGunzip()))) {
      await r.readFully(true);
      if (r.warcType === 'response' || r.warcType === 'conversion') docs++;
    }
  } else {
    for await (const item of readDocs(file)) if (item.kind === 'doc') docs++;
  }
  return { docs, seconds: (performance.now() - t0) / 1000, maxRssMb: peakRssMb() };
}

/**
 * Peak resident memory of this process. Linux's VmHWM starts afresh at exec; getrusage's maxRSS
 * would carry over the parent's peak into the child.
 */
function peakRssMb(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

if (process.argv[2] === '--one') {
  const r = await measure(process.argv[3] as Measure, process.argv[4]);
  process.stdout.write(JSON.stringify(r));
  process.exit(0);
}

function runChild(kind: Measure, file: string): Result {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', kind, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Result;
}

/** Documents for the JSONL/Parquet files: real text when the dev corpora are present. */
function sourceDocs(): { id: string; text: string; source: string; url?: string; score: number }[] {
  const files = ['web/dolma_cc_main_2019_30_seg00140.jsonl', 'quality/dclm_human_quality_dev.jsonl', 'quality/sotu_state_of_the_union.jsonl.gz', 'quality/spamassassin_emails.jsonl.gz'].map(devdataFile);
  if (files.every((f) => f !== undefined)) {
    return files.flatMap((f) => {
      const raw = readFileSync(f);
      const text = (f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
      return text.split('\n').filter(Boolean).map((l, i) => {
        const r = JSON.parse(l) as { text: string; url?: string; meta?: { url?: string } };
        return { id: `${f.split('/').pop()}:${i}`, text: r.text, source: 'devdata', url: r.url ?? r.meta?.url, score: i % 7 };
      });
    });
  }
  const words = 'the of and to in a is that for it as was with be by on not he this are or his from at which river town spring flood'.split(' ');
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: 2000 }, (_, i) => ({ id: `gen:${i}`, text: Array.from({ length: 100 + Math.floor(rnd() * 1500) }, () => words[Math.floor(rnd() * words.length)]).join(' '), source: 'generated', score: i % 7 }));
}

const dir = await mkdtemp(join(tmpdir(), 'refinery-bench-readers-'));
try {
  const docs = sourceDocs();
  const lines: string[] = [];
  let bytes = 0;
  for (let k = 0; bytes < TARGET_BYTES; k++) {
    const d = docs[k % docs.length];
    const line = JSON.stringify({ ...d, id: `${d.id}#${Math.floor(k / docs.length)}` });
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  const jsonl = Buffer.from(lines.join('\n') + '\n');
  const jsonlGz = join(dir, 'docs.jsonl.gz');
  await writeFile(jsonlGz, gzipSync(jsonl));
  const plain = join(dir, 'docs.jsonl');
  await writeFile(plain, jsonl);
  const parquet = join(dir, 'docs.parquet');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const select = `SELECT * FROM read_json('${plain}', format = 'newline_delimited', columns = {id: 'VARCHAR', text: 'VARCHAR', source: 'VARCHAR', url: 'VARCHAR', score: 'BIGINT'})`;
  await db.run(`COPY (${select}) TO '${parquet}' (FORMAT parquet, COMPRESSION zstd)`);
  // The same rows in row groups of 1,000: the reader holds one group at a time.
  const parquetSmallGroups = join(dir, 'docs-small-groups.parquet');
  await db.run(`COPY (${select}) TO '${parquetSmallGroups}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000)`);
  db.closeSync();
  await rm(plain);

  // WARC: the sample corpus's crawl of real HTML pages, repeated (gzip members concatenate).
  const warcSample = readFileSync(join(here, '../examples/corpus/debian-history.warc.gz'));
  const warc = join(dir, 'pages.warc.gz');
  await writeFile(warc, Buffer.concat(Array.from({ length: sized(8, 1) }, () => warcSample)));
  const warcMb = gunzipSync(readFileSync(warc)).length / 1e6;
  const jsonlMb = jsonl.length / 1e6;

  const rows: [string, Measure, string, number][] = [
    ['zlib + JSON.parse loop (baseline)', 'zlib-json-parse', jsonlGz, jsonlMb],
    ['Refinery JSONL.gz reader', 'jsonl-reader', jsonlGz, jsonlMb],
    ['parquet-wasm + apache-arrow scan, no Docs (the alternative)', 'parquet-arrow-scan', parquet, jsonlMb],
    ['DuckDB scan, 1 thread, no Docs (the reader\'s engine)', 'duckdb-scan', parquet, jsonlMb],
    ['Refinery Parquet reader', 'parquet-reader', parquet, jsonlMb],
    ['Refinery Parquet reader, 1,000-row groups', 'parquet-reader', parquetSmallGroups, jsonlMb],
    ['zlib + warcio parse (baseline)', 'warcio-parse', warc, warcMb],
    ['Refinery WARC reader (HTML main text)', 'warc-reader', warc, warcMb],
  ];
  // Best of three runs each: the machine is shared, and the fastest run is the least disturbed.
  const results = rows.map(([, kind, file]) => {
    const runs = Array.from({ length: RUNS }, () => runChild(kind, file));
    return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  });
  const base = results[0];
  const warcBase = results[6];
  console.log(`Input: ${lines.length} documents, ${jsonlMb.toFixed(1)} MB of JSONL (${((await stat(jsonlGz)).size / 1e6).toFixed(1)} MB gzipped, ${((await stat(parquet)).size / 1e6).toFixed(1)} MB as zstd Parquet), text from ${docs[0].source}; WARC ${warcMb.toFixed(1)} MB uncompressed.\n`);
  console.log('| reader | docs | seconds | MB/s | vs baseline | peak RSS MB |');
  console.log('|---|---:|---:|---:|---:|---:|');
  rows.forEach(([label, , , mb], i) => {
    const r = results[i];
    const b = i < 6 ? base : warcBase;
    console.log(`| ${label} | ${r.docs} | ${r.seconds.toFixed(2)} | ${(mb / r.seconds).toFixed(1)} | ${(b.seconds / r.seconds).toFixed(2)}x | ${r.maxRssMb.toFixed(0)} |`);
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
