import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../bin/cli.ts';

/** Runs the CLI with stdout collected. */
async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
  try {
    return { code: await main(['node', 'refinery', ...args]), out: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

test('refinery filter, dedup and tokenize write report/ as refinery run does; --no-report skips it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cmd-report-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const text = (i: number) => `Document ${i % 10}. ${'The cat and the dog went to the park with a ball that they liked to play with every day. '.repeat(4)}`;
  const input = join(dir, 'in.jsonl');
  await writeFile(input, `${Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `d${i}`, text: i % 7 === 0 ? 'short' : text(i) })).join('\n')}\n`);
  for (const args of [['filter', '-s', 'gopher-quality'], ['dedup', '-m', 'exact'], ['tokenize']]) {
    const out = join(dir, args[0]!);
    const r = await cli([...args, input, '-o', out, '-q', '-w', '1']);
    assert.equal(r.code, 0, r.out);
    const report = JSON.parse(await readFile(join(out, 'report', 'report.json'), 'utf8')) as Record<string, unknown>;
    assert.ok(report.funnel_by_source !== undefined, `${args[0]}: report.json has the funnel per source`);
    assert.ok(existsSync(join(out, 'report', 'report.html')));
    assert.match(r.out, /report\/report\.html/);
  }
  const quiet = join(dir, 'no-report');
  assert.equal((await cli(['filter', '-s', 'gopher-quality', input, '-o', quiet, '-q', '-w', '1', '--no-report'])).code, 0);
  assert.ok(existsSync(join(quiet, 'stats.json')));
  assert.equal(existsSync(join(quiet, 'report')), false);
});
