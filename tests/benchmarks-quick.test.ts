/**
 * Every bench/*.bench.ts in quick mode (BENCH_QUICK=1, bench/quick.ts: tiny generated input, one
 * repetition), each in its own process as `npm run bench` runs it, so that a benchmark broken by a
 * change elsewhere fails here. Timings are not checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const benchmarks = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();

function runQuick(file: string, signal: AbortSignal): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', join(root, 'bench', file)], {
      cwd: root,
      env: { ...process.env, BENCH_QUICK: '1' },
      signal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code, sig) => resolve({ code: code ?? (sig ? -1 : null), stdout, stderr }));
  });
}

const tail = (s: string) => s.split('\n').slice(-30).join('\n');

test('bench/ holds benchmarks to run', () => {
  assert.ok(benchmarks.length > 0, 'no bench/*.bench.ts found');
});

for (const file of benchmarks) {
  test(`bench/${file} runs in quick mode and prints its Markdown table`, { timeout: 180_000 }, async (t) => {
    const { code, stdout, stderr } = await runQuick(file, t.signal);
    assert.equal(code, 0, `bench/${file} exited with ${code}; stderr:\n${tail(stderr)}`);
    assert.match(stdout, /^\|/m, `bench/${file} printed no Markdown table; stdout:\n${tail(stdout)}`);
  });
}
