/**
 * `npm run bench`: runs every bench/*.bench.ts one after another (each in its own process, so
 * peak-memory figures are its own) and prints their Markdown tables. `npm run bench -- dedup`
 * runs only the benchmarks whose file name contains "dedup"; `npm run bench -- scale --sizes 1e6,4e6`
 * passes `--sizes 1e6,4e6` to them.
 */
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
// Names select benchmarks; `--option value` pairs (e.g. `--sizes 1e6,4e6`) go to each benchmark.
const args = process.argv.slice(2);
const only: string[] = [];
const passed: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i]!.startsWith('--')) passed.push(args[i]!, ...(args[i + 1] !== undefined && !args[i + 1]!.startsWith('--') ? [args[++i]!] : []));
  else only.push(args[i]!);
}
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n## ${f.replace('.bench.ts', '')}\n\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(here, f), ...passed], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`\n(${f} exited with ${r.status ?? r.signal})\n`);
  }
}
process.exitCode = failed ? 1 : 0;
