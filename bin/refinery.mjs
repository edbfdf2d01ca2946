#!/usr/bin/env -S node --max-semi-space-size=32
// --max-semi-space-size=32 (V8's young generation 64 MB instead of 32): a run allocates many
// short-lived strings (document texts, JSON lines) and a small young generation copies the
// survivors of each batch again and again. The larger one saves CPU at the same peak RSS: the
// four-filter run of bench/pipeline.bench.ts measures it, with and without the flag. Worker threads inherit the flag.
// The `refinery` command. Runs the JavaScript that `tsc -p tsconfig.build.json` wrote to dist/
// (npm runs it at `npm ci` and `npm install`, as the `prepare` script). When dist/ is missing or
// older than a source file (a developer edited the TypeScript), runs the sources through tsx.
// REFINERY_FROM_SOURCE=1 always runs the sources; REFINERY_FROM_SOURCE=0 always runs dist/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const built = join(root, 'dist', 'bin', 'cli.js');
/** Written by `npm run build` after tsc succeeds. */
const stamp = join(root, 'dist', 'BUILT');

function newestSource() {
  let newest = 0;
  for (const dir of ['bin', 'pipeline', 'text', 'filters', 'classifiers', 'dedup', 'mixes', 'decontam', 'takedown']) {
    for (const f of readdirSync(join(root, dir), { recursive: true })) {
      if (f.endsWith('.ts')) newest = Math.max(newest, statSync(join(root, dir, f)).mtimeMs);
    }
  }
  return newest;
}

let cli;
let secrets;
const choice = process.env.REFINERY_FROM_SOURCE;
if (choice !== '1' && existsSync(stamp) && (choice === '0' || statSync(stamp).mtimeMs >= newestSource())) {
  secrets = await import(join(root, 'dist', 'pipeline', 'secrets.js'));
  cli = await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  secrets = await import('../pipeline/secrets.ts');
  cli = await import('./cli.ts');
}
// Credentials in URLs the program was given (AWS_ENDPOINT_URL, --redis, ...) never reach the terminal.
secrets.redactOutput(process.argv, process.env);
process.exitCode = await cli.main(process.argv);
