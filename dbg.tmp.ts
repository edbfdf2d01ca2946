import { ShardSink } from './pipeline/shards/shard-sink.ts';
import { Llama3Tokenizer } from './pipeline/tokenizer/llama3-tokenizer.ts';
if (process.argv[2] === 'tok') { const t = new Llama3Tokenizer(); console.log(t.encode('hi').length); }
const rows = Array.from({ length: 10 }, (_, i) => ({ id: 'd' + i, tokens: Int32Array.from({length: 50}, (_, j) => (i * 31 + j * 7) % 5000), source: 'a', language: null, category: null, quality: null, quality_band: null }));
const sink = new ShardSink({ prefix: '/tmp/tk/dbg/x', shardSize: 1e9, rowGroupBytes: 32 * 2 ** 20, seqLen: null, metadata: {a: 'b'} });
for (const r of rows) await sink.add(r);
console.log(await sink.finish());
