/**
 * CLI: refinery export megatron <tokens folder> -o <prefix>. Writes a tokenize run's shards as a
 * Megatron-LM indexed dataset (`<prefix>.bin`, `<prefix>.idx`); see megatron-export.ts. The run
 * may be a folder or an s3:// prefix: a bucket's token shards are fetched into a scratch folder
 * first (DuckDB reads local files), and deleted after.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { exportMegatron } from './megatron-export.ts';
import { TOKENS_DIR } from './tokenize-options.ts';
import { withRun, type OpenedRun } from '../../pipeline/run-folder/open-run.ts';

/** Fetches the token shards and the JSON files (the manifest) of a bucket run, at the prefix given and in its `tokens/`, into the run's scratch. */
async function fetchTokens(run: OpenedRun): Promise<void> {
  const top = await run.files.list(run.dir);
  const below = top.includes(TOKENS_DIR) ? (await run.files.list(join(run.dir, TOKENS_DIR))).map((n) => join(run.dir, TOKENS_DIR, n)) : [];
  for (const path of [...top.map((n) => join(run.dir, n)), ...below]) if (/\.(json|parquet)$/.test(path)) await run.files.need(path);
}

export function registerExportCommand(program: Command): void {
  const exportCommand = program
    .command('export')
    .description('Write tokenized shards in the formats trainers read (megatron: .bin/.idx indexed dataset).');
  exportCommand
    .command('megatron')
    .description('Megatron-LM indexed dataset (MMIDIDX version 1): <prefix>.bin and <prefix>.idx, one sequence per document, uint16 ids below 65,500 ids of vocabulary, else int32.')
    .argument('<tokens>', 'tokens folder (with manifest.json), or the output folder of a run that tokenized; either may be an s3://bucket/prefix')
    .requiredOption('-o, --output <prefix>', 'path prefix of the two files: <prefix>.bin and <prefix>.idx')
    .option('--force', 'replace the .bin and .idx files already at the prefix', false)
    .action(async (tokens: string, o: { output: string; force: boolean }) => {
      const r = await withRun(tokens, async (run) => {
        if (run.onBucket) await fetchTokens(run);
        return exportMegatron(run.dir, o.output, { force: o.force });
      });
      process.stdout.write(`${r.documents} documents, ${r.tokens} tokens (${r.layout} shards) as ${r.dtype}: ${r.bin}, ${r.idx}\n`);
    });
}
