/**
 * `decontam check <run> --benchmark evals.jsonl [--field question,answer] [--json]` as a commander
 * command, for the CLI to add (`program.addCommand(decontamCommand())`); until then it runs as
 *   node --import tsx decontam/command.ts check <run> --benchmark evals.jsonl
 */
import { Command } from 'commander';
import { checkContamination, formatCheckReport, type CheckReport } from './check.ts';
import { readBenchmark } from './benchmark-items.ts';

export function decontamCommand(): Command {
  const decontam = new Command('decontam').description('benchmark contamination: check a finished run\'s ledger (written by the decontam-index stage)');
  decontam
    .command('check')
    .description('report, per benchmark item, the documents of the run that share n-grams with it, from the ledger alone')
    .argument('<run>', 'output folder of a run whose pipeline ended with decontam-index')
    .requiredOption('--benchmark <file>', 'benchmark items, JSONL')
    .option('--field <names>', 'comma-separated fields whose text is checked (default: every string field but id)')
    .option('--json', 'print the report as JSON')
    .action(async (run: string, o: { benchmark: string; field?: string; json?: boolean }) => {
      const fields = o.field?.split(',').map((f) => f.trim()).filter(Boolean);
      const items = await readBenchmark(o.benchmark, fields);
      const { manifest, items: reports } = await checkContamination(run, items);
      const report: CheckReport = { run, benchmark: o.benchmark, fields: fields ?? 'all', n: manifest.n, items: reports };
      process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatCheckReport(report));
    });
  return decontam;
}

if (process.argv[1] === import.meta.filename) {
  await decontamCommand().parseAsync(process.argv);
}
