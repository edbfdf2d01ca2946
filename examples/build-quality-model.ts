/**
 * Builds examples/models/quality, the demonstration quality model the quickstart scores with.
 * DCLM-style reference-versus-web labels from the sample corpus: paragraphs of the State of the
 * Union addresses and the Debian history pages are "high"; SpamAssassin spam and the generated
 * junk pages are "low". It shows the machinery end to end; it is not a production quality model
 * (train one on LLM labels of your own corpus: docs/classifiers.md).
 *
 *   node --import tsx examples/build-quality-model.ts
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDocs } from '../pipeline/io/read.ts';
import { main } from '../bin/cli.ts';

const here = dirname(fileURLToPath(import.meta.url));
const corpus = (f: string) => join(here, 'corpus', f);
const rows: string[] = [];
const add = (id: string, text: string, label: string) => rows.push(JSON.stringify({ id, text, label }));

for (const file of ['speeches.jsonl.gz', 'debian-history.warc.gz', 'debian-history.wet.gz']) {
  for await (const it of readDocs(corpus(file))) {
    if (it.kind !== 'doc') continue;
    // Paragraph groups of about 2 KB: many positives from few long documents.
    let chunk = '';
    let n = 0;
    for (const para of it.doc.text.split(/\n\s*\n|\n/)) {
      chunk += (chunk ? '\n' : '') + para;
      if (chunk.length >= 2000) {
        add(`${it.doc.id}#${n++}`, chunk, 'high');
        chunk = '';
      }
    }
    if (chunk.length >= 500) add(`${it.doc.id}#${n}`, chunk, 'high');
  }
}
for (const file of ['email.jsonl.gz', 'generated-lowquality.jsonl.gz']) {
  for await (const it of readDocs(corpus(file))) {
    if (it.kind === 'doc' && (file !== 'email.jsonl.gz' || it.doc.meta.label === 'spam')) add(it.doc.id, it.doc.text, 'low');
  }
}
const dir = await mkdtemp(join(tmpdir(), 'refinery-quality-labels-'));
const labels = join(dir, 'labels.jsonl');
await writeFile(labels, rows.join('\n') + '\n');
process.exitCode = await main([process.argv[0]!, 'refinery', 'classify', 'train', labels, '-o', join(here, 'models', 'quality'), '--positive-label', 'high', '--epochs', '25', '--lr', '0.2', '--dim', '16', '--word-ngrams', '2', '--buckets', '16384', '--seed', '1']);
