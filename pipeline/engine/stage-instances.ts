/**
 * The stages of a config, created for one task: a stage by its index, checked for the kind the
 * caller needs, and a per-document stage with its `overrides` (one instance per option set).
 */
import type { DocStage, GlobalStage, Stage } from '../stage.ts';
import type { RunConfig } from '../config.ts';
import { loadPlugins, loadStage } from '../registry.ts';
import { stableJson } from '../io/atomic.ts';
import { RefineryError } from '../errors.ts';
import { layout } from './run-plan.ts';
import { routeByOverrides, type When } from './stage-overrides.ts';
import { folderFiles, type RunFiles } from '../run-folder/files.ts';

/** A stage of the config; `files` reads the run's files (a task's; by default the output folder's, for planning). */
export async function createStage(config: RunConfig, index: number, files: RunFiles = folderFiles): Promise<Stage> {
  await loadPlugins(config.plugins);
  const s = config.stages[index]!;
  const def = await loadStage(s.stage);
  if (!def) throw new RefineryError(`${config.file}: ${s.keyPath}: unknown stage "${s.stage}"`);
  return def.create(s.options, {
    baseDir: config.baseDir,
    outputDir: config.output,
    workDir: layout.stageWork(config.output, index, s.stage),
    files,
    seed: config.seed,
    keyPath: s.keyPath,
  });
}

export async function createGlobalStage(config: RunConfig, index: number, files: RunFiles): Promise<GlobalStage> {
  const stage = await createStage(config, index, files);
  if (stage.kind !== 'global') throw new RefineryError(`${config.stages[index]!.keyPath}: stage "${stage.name}" is not a global stage`);
  return stage;
}

async function createDocStage(config: RunConfig, index: number, files: RunFiles): Promise<DocStage> {
  const stage = await createStage(config, index, files);
  if (stage.kind === 'global') throw new RefineryError(`${config.stages[index]!.keyPath}: stage "${stage.name}" is global`);
  return stage;
}

/**
 * A per-document stage with its `overrides`: one instance per distinct option set (created as the
 * stage with those options), documents routed by the first matching `when`.
 */
export async function createDocStageWithOverrides(config: RunConfig, index: number, files: RunFiles): Promise<DocStage> {
  const s = config.stages[index]!;
  const base = await createDocStage(config, index, files);
  if (!s.overrides?.length) return base;
  const byOptions = new Map<string, DocStage>([[stableJson(s.options), base]]);
  const variants: { when: When; stage: DocStage }[] = [];
  for (const o of s.overrides) {
    const key = stableJson(o.options);
    let stage = byOptions.get(key);
    if (!stage) {
      stage = await createDocStage({ ...config, stages: config.stages.map((e, i) => (i === index ? { ...e, options: o.options } : e)) }, index, files);
      byOptions.set(key, stage);
    }
    variants.push({ when: o.when, stage });
  }
  return routeByOverrides(base, variants);
}

