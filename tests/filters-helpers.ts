/** Test helpers for the filter stages: build a stage with its default options and run docs through it. */
import { readFileSync } from 'node:fs';
import type { Doc } from '../pipeline/doc.ts';
import type { DocStage, StageContext, Verdict } from '../pipeline/stage.ts';
import { loadStage, registerStageModules } from '../pipeline/registry.ts';
import { filterStageModules } from '../filters/stages.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

registerStageModules(filterStageModules);

export const testContext: StageContext = { baseDir: process.cwd(), outputDir: '/nonexistent', workDir: '/nonexistent', seed: 0, keyPath: 'stages[0]', files: folderFiles };

export async function docStage(name: string, options: Record<string, unknown> = {}, ctx: StageContext = testContext): Promise<DocStage> {
  const def = await loadStage(name);
  if (def === undefined) throw new Error(`no stage ${name}`);
  const stage = await def.create(def.options.parse(options), ctx);
  if (stage.kind === 'global') throw new Error(`${name} is a global stage`);
  return stage;
}

/** Runs per-document stages in order; returns the first drop as "<stage>:<rule>", or "kept". */
export async function runChain(doc: Doc, names: string[]): Promise<string> {
  for (const name of names) {
    const stage = await docStage(name);
    const [v] = (await stage.process([doc])) as Verdict[];
    if (v !== undefined && !v.keep) return `${name}:${v.rule}`;
  }
  return 'kept';
}

export function doc(text: string, meta: Record<string, unknown> = {}, id = 'd'): Doc {
  return { id, text, meta };
}

export function fixtureDocs(file: string): Doc[] {
  return readFileSync(new URL(`./fixtures/filters/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Doc);
}
