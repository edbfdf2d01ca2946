/**
 * `overrides_from: <file.yaml>` on a stage entry: the per-document overrides a file holds for
 * that stage (under `overrides.<stage name>`, as `refinery calibrate` writes them) are added
 * after the entry's own `overrides` (the first match wins, so the pipeline's own come first).
 * The file is read when the pipeline is loaded, so the run's config records the overrides
 * themselves and a changed file is a changed config.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from './errors.ts';

export async function includeOverrideFiles(raw: unknown, pipelineFile: string, baseDir: string): Promise<unknown> {
  const stages = (raw as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return raw;
  const expanded = await Promise.all(
    stages.map(async (entry: unknown, i) => {
      if (entry === null || typeof entry !== 'object' || !('overrides_from' in entry)) return entry;
      const { overrides_from: from, ...rest } = entry as Record<string, unknown>;
      const key = `stages[${i}].overrides_from`;
      if (typeof from !== 'string') throw new ConfigError(pipelineFile, key, 'expected the path of an overrides file');
      let file: unknown;
      try {
        file = parse(await readFile(resolve(baseDir, from), 'utf8'));
      } catch (e) {
        throw new ConfigError(pipelineFile, key, `cannot read ${from}: ${(e as Error).message.split('\n')[0]}`);
      }
      const all = (file as { overrides?: unknown } | null)?.overrides;
      if (all === null || typeof all !== 'object' || Array.isArray(all)) throw new ConfigError(pipelineFile, key, `${from} has no "overrides:" map of stage names`);
      const mine = (all as Record<string, unknown>)[String(rest.stage)] ?? [];
      if (!Array.isArray(mine)) throw new ConfigError(pipelineFile, key, `${from}: overrides.${String(rest.stage)} is not a list`);
      const own = Array.isArray(rest.overrides) ? rest.overrides : [];
      return mine.length + own.length > 0 ? { ...rest, overrides: [...own, ...mine] } : rest;
    }),
  );
  return { ...(raw as object), stages: expanded };
}
