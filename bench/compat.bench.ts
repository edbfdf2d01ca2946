/**
 * Agreement of Refinery's Gopher repetition, Gopher quality, C4 and FineWeb filters with
 * datatrove 0.10.0's verdicts, each filter alone, in the default mode and with `compat: datatrove`.
 * Full run: the devdata documents of ../shared/peer/datatrove-verdicts-devdata.tsv (recorded with
 * datatrove, spaCy English words). Quick mode (BENCH_QUICK=1): the test fixture tests/fixtures/compat/.
 *
 *   node --import tsx bench/compat.bench.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import type { AnyStageDefinition, DocStage, StageContext } from '../pipeline/stage.ts';
import { gopherRepetitionStage } from '../filters/gopher-repetition.ts';
import { gopherQualityStage } from '../filters/gopher-quality.ts';
import { c4Stage } from '../filters/c4.ts';
import { finewebStage } from '../filters/fineweb.ts';
import { readDevdataJsonl } from './devdata.ts';
import { QUICK } from './quick.ts';

export const COMPAT_FILTERS: Record<string, AnyStageDefinition> = {
  'gopher-repetition': gopherRepetitionStage,
  'gopher-quality': gopherQualityStage,
  c4: c4Stage,
  fineweb: finewebStage,
};

/** The devdata files of the recorded verdicts, in the TSV's order; ids are `<file stem>:<id>`. */
const FILES = [
  'web/dolma_cc_main_2019_30_seg00140.jsonl',
  'web/dolma_ccnet_head_samples.jsonl',
  'quality/dclm_human_quality_dev.jsonl',
  'quality/sotu_state_of_the_union.jsonl.gz',
  'quality/spamassassin_emails.jsonl.gz',
  'quality/dolma_gpt35_synthetic_topic_style.jsonl',
];
const stem = (f: string) => f.split('/').pop()!.replace(/\.jsonl(\.gz)?$/, '');

export interface Recorded {
  id: string;
  text: string;
  /** filter → 1 kept, 0 dropped, -1 datatrove raised. */
  verdicts: Record<string, number>;
}

export function parseVerdicts(tsv: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const line of tsv.split('\n')) {
    if (!line) continue;
    const [id, filter, v] = line.split('\t');
    let r = out.get(id!);
    if (!r) out.set(id!, (r = {}));
    r[filter!] = Number(v);
  }
  return out;
}

function loadDevdata(): Recorded[] {
  const tsv = join(import.meta.dirname, '..', '..', 'shared', 'peer', 'datatrove-verdicts-devdata.tsv');
  if (!existsSync(tsv)) return [];
  const verdicts = parseVerdicts(readFileSync(tsv, 'utf8'));
  const docs: Recorded[] = [];
  for (const f of FILES) {
    for (const d of readDevdataJsonl<{ id: string; text: string }>(f)) {
      const id = `${stem(f)}:${d.id}`;
      const v = verdicts.get(id);
      if (v) docs.push({ id, text: d.text, verdicts: v });
    }
  }
  return docs;
}

export function loadFixture(): Recorded[] {
  const file = join(import.meta.dirname, '..', 'tests', 'fixtures', 'compat', 'documents.jsonl');
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Recorded);
}

/** 1 kept, 0 dropped, -1 threw; with the rule when dropped. */
export async function verdictOf(def: AnyStageDefinition, text: string, compat: boolean): Promise<{ v: number; rule?: string }> {
  const ctx = { baseDir: '.', outputDir: '.', workDir: '.', seed: 0, keyPath: 'stages[0]' } as StageContext;
  const stage = (await def.create(def.options.parse(compat ? { ...def.presets?.datatrove } : {}), ctx)) as DocStage;
  const doc: Doc = { id: 'x', text, meta: {} };
  try {
    const [r] = await stage.process([doc]);
    return r!.keep ? { v: 1 } : { v: 0, rule: r!.rule };
  } catch {
    return { v: -1 };
  }
}

async function main(): Promise<void> {
  const docs = QUICK ? loadFixture() : loadDevdata();
  if (docs.length === 0) {
    console.log('no recorded verdicts or devdata here; nothing to measure');
    return;
  }
  const isWeb = (id: string) => id.startsWith('dolma_cc') || id.startsWith('dclm_');
  console.log(`${docs.length} documents${QUICK ? ' (quick: the test fixture)' : ''}; agreement with datatrove's recorded verdicts (1/0/-1 must match)`);
  console.log('| filter | compat: all | compat: web | default: all | default: web | web dropped: datatrove / compat / default |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const [name, def] of Object.entries(COMPAT_FILTERS)) {
    const agree = { c: 0, cw: 0, d: 0, dw: 0, n: 0, nw: 0 };
    const dropped = { dt: 0, c: 0, d: 0 };
    const rules = new Map<string, number>();
    for (const d of docs) {
      const want = d.verdicts[name];
      if (want === undefined) continue;
      const c = await verdictOf(def, d.text, true);
      const dflt = await verdictOf(def, d.text, false);
      const web = isWeb(d.id);
      agree.n++;
      if (c.v === want) agree.c++;
      if (dflt.v === want) agree.d++;
      if (web) {
        agree.nw++;
        if (c.v === want) agree.cw++;
        if (dflt.v === want) agree.dw++;
        if (want === 0) dropped.dt++;
        if (c.v === 0) dropped.c++;
        if (dflt.v === 0) dropped.d++;
        if (dflt.v !== c.v) rules.set(`${dflt.rule ?? 'keep'}→${c.rule ?? (c.v === 1 ? 'keep' : 'error')}`, (rules.get(`${dflt.rule ?? 'keep'}→${c.rule ?? (c.v === 1 ? 'keep' : 'error')}`) ?? 0) + 1);
      }
      if (process.env.COMPAT_SHOW === name && c.v !== want) console.log(`  ${d.id}: datatrove ${want}, compat ${c.v} ${c.rule ?? ''}`);
    }
    const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
    console.log(`| ${name} | ${pct(agree.c, agree.n)} | ${pct(agree.cw, agree.nw)} | ${pct(agree.d, agree.n)} | ${pct(agree.dw, agree.nw)} | ${dropped.dt} / ${dropped.c} / ${dropped.d} of ${agree.nw} |`);
    if (!QUICK) console.log(`    default→compat on web: ${[...rules].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
