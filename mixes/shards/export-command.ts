/**
 * CLI: refinery export megatron <tokens folder> -o <prefix>. Writes a tokenize run's shards as a
 * Megatron-LM indexed dataset (`<prefix>.bin`, `<prefix>.idx`); see megatron-export.ts.
 */
import type { Command } from 'commander';
import { exportMegatron } from './megatron-export.ts';

export function registerExportCommand(program: Command): void {
  const exportCommand = program
    .command('export')
    .description('Write tokenized shards in the formats trainers read (megatron: .bin/.idx indexed dataset).');
  exportCommand
    .command('megatron')
    .description('Megatron-LM indexed dataset (MMIDIDX version 1): <prefix>.bin and <prefix>.idx, one sequence per document, uint16 ids below 65,500 ids of vocabulary, else int32.')
    .argument('<tokens>', 'tokens folder (with manifest.json), or the output folder of a run that tokenized')
    .requiredOption('-o, --output <prefix>', 'path prefix of the two files: <prefix>.bin and <prefix>.idx')
    .option('--force', 'replace the .bin and .idx files already at the prefix', false)
    .action(async (tokens: string, o: { output: string; force: boolean }) => {
      const r = await exportMegatron(tokens, o.output, { force: o.force });
      process.stdout.write(`${r.documents} documents, ${r.tokens} tokens (${r.layout} shards) as ${r.dtype}: ${r.bin}, ${r.idx}\n`);
    });
}
