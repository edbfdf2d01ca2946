/**
 * What the researcher report's tally costs the tasks: per settled document, each section's counter
 * and the whole tally (mixes/report/tally.ts), over documents whose meta looks like the
 * quickstart's (language, source, score, four stages' measurement objects, a tenth rejected, some
 * in dedup clusters); and merging the parts of many tasks.
 */
import { REPORT_SECTIONS } from '../mixes/report/section-list.ts';
import { createReportTally, mergeReportTallies, type ReportTally } from '../mixes/report/tally.ts';
import { stageSettings } from '../mixes/report/measures.ts';
import type { SettledDoc } from '../pipeline/engine/tallies.ts';
import type { SectionTally, TallyScope } from '../mixes/report/section.ts';
import { sized } from './quick.ts';

const DOCS = sized(400_000, 2_000);
const TASKS = sized(1_000, 4);
const STAGES = ['langid', 'gopher-repetition', 'gopher-quality', 'fineweb', 'exact-dedup', 'quality'];
const scope: TallyScope = { stages: STAGES, settings: stageSettings(STAGES.map((stage) => ({ stage, options: { min_doc_words: 50, language_threshold: 0.65 } }))), seed: 42 };
const LANGUAGES = ['en', 'de', 'fr', 'es', 'zh'];
const RULES = ['gopher-quality:short_doc', 'gopher-repetition:dup_line_frac', 'fineweb:line_punct_ratio', 'exact-dedup:exact'];
const words = 'the of and to in a is that for it as was with be by on not he this are'.split(' ');

function settled(i: number): SettledDoc {
  const text = Array.from({ length: 40 + (i % 400) }, (_, k) => words[(i + k * 7) % words.length]).join(' ');
  const meta: Record<string, unknown> = {
    source: `source-${i % 7}`,
    language: LANGUAGES[i % LANGUAGES.length],
    language_score: (i % 100) / 100,
    gopher_repetition: { dup_line_frac: (i % 13) / 13, dup_para_frac: (i % 11) / 11, top_2_gram_char_frac: (i % 17) / 17 },
    gopher_quality: { words: 40 + (i % 400), mean_word_length: 3 + (i % 5) / 3, stop_words: i % 9, alpha_words_ratio: (i % 50) / 50 },
    fineweb: { line_punct_ratio: (i % 20) / 20, short_line_ratio: (i % 30) / 30, char_dup_ratio: (i % 40) / 40 },
    quality: (i % 1000) / 1000,
  };
  if (i % 50 === 0) meta.dedup_cluster = `exact-dedup/${i % 500}`;
  const rejected = i % 10 === 0;
  if (rejected) meta.reject_reason = RULES[i % RULES.length];
  return { outcome: rejected ? 'rejected' : 'kept', doc: { id: `d${i}`, text, meta }, ...(rejected ? { stage: 2 } : {}) };
}

const docs = Array.from({ length: DOCS }, (_, i) => settled(i));
const rows: string[] = [];
for (const s of REPORT_SECTIONS as readonly { key: string; tally?: SectionTally<unknown> }[]) {
  if (!s.tally) continue;
  const counter = s.tally.start(scope);
  const t0 = performance.now();
  for (const d of docs) counter.add(d);
  rows.push(`| ${s.key} | ${(((performance.now() - t0) * 1000) / DOCS).toFixed(2)} |`);
}
const tally = createReportTally(scope);
const t0 = performance.now();
for (const d of docs) tally.add(d);
const whole = ((performance.now() - t0) * 1000) / DOCS;
const part = tally.part();

// A run's merge: one part per task (here the same part again and again, the size a task's part has).
const parts: ReportTally[] = Array.from({ length: TASKS }, () => structuredClone(part));
const m0 = performance.now();
mergeReportTallies(parts);
const merge = (performance.now() - m0) / 1000;

console.log(`${DOCS.toLocaleString('en-US')} settled documents, one counter per section:\n`);
console.log('| section | µs per document |\n|---|---:|');
console.log(rows.join('\n'));
console.log(`| the whole tally | ${whole.toFixed(2)} |`);
console.log(`\nA task's part: ${(JSON.stringify(part).length / 1024).toFixed(0)} KiB of JSON; merging ${TASKS.toLocaleString('en-US')} such parts: ${merge.toFixed(2)} s.`);
