/** CLI: refinery remove <run> --ids FILE | --urls FILE | --domains FILE (remove-run.ts). */
import type { Command } from 'commander';
import { removeFromRun, type ReportHook } from './remove-run.ts';

export function registerRemoveCommand(program: Command, onReport?: ReportHook): void {
  program
    .command('remove')
    .description('Take documents out of a finished run (takedown): out of kept/, rejected/, errors/ and the token shards that hold them, out of the counts and the report, as if the input never had them; a log in removals/. Run it again after an interruption to finish.')
    .argument('<run>', 'output folder of a run, or its s3://bucket/prefix')
    .option('--ids <file>', 'document ids, one a line')
    .option('--urls <file>', 'URLs (meta.url), one a line')
    .option('--domains <file>', 'host names, one a line: documents whose meta.url is on the host or a subdomain of it')
    .action(async (run: string, o: { ids?: string; urls?: string; domains?: string }) => {
      const r = await removeFromRun(run, { ...(o.ids ? { ids: o.ids } : {}), ...(o.urls ? { urls: o.urls } : {}), ...(o.domains ? { domains: o.domains } : {}) }, onReport ? { onReport } : {});
      const d = r.documents;
      const n = d.kept + d.rejected + d.errored;
      if (n === 0) {
        process.stdout.write(`nothing to remove: no document of ${run} is named by the lists\n`);
        return;
      }
      const lines = [
        `${r.resumed ? 'Finished the removal cut short: ' : ''}removed ${n} document${n === 1 ? '' : 's'} (${d.kept} kept, ${d.rejected} rejected, ${d.errored} errored) from ${r.shards.length} document shard${r.shards.length === 1 ? '' : 's'}`,
        r.tokens.groups ? `token shards: ${r.tokens.rewritten.length} written again${r.tokens.deleted.length ? `, ${r.tokens.deleted.length} deleted` : ''} (${r.tokens.groups} group${r.tokens.groups === 1 ? '' : 's'}); the manifest, stats.json and report.md are updated` : 'no token shard held them; stats.json and report.md are updated',
        `what went: ${r.log}`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
