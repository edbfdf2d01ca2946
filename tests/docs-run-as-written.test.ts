/**
 * The documentation runs as written. Every shell block of docs/*.md and README.md says, on the
 * line before its fence, whether it runs:
 *   <!-- runs-on-sample -->    run on the sample corpus, as a new user types it (`npx refinery ...`)
 *   <!-- runs-in-repo -->      run in the repository's folder (a check of the source)
 *   <!-- not-run: reason -->   needs what a test cannot have (a GPU server, a download, machines)
 * The runnable blocks of one page run in order in one fresh folder holding a copy of examples/,
 * as a reader follows the page: shell blocks with bash (-e, -u, pipefail); a marked YAML block is
 * a pipeline file, run with `npx refinery run`; a marked SQL block is run by DuckDB. `refinery`
 * is found as npx finds an installed package's command: node_modules/.bin/refinery in that folder
 * (npm in offline mode, so that nothing is ever fetched); bare `refinery` is not on the PATH.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const RUNS_ON_SAMPLE = '<!-- runs-on-sample -->';
const RUNS_IN_REPO = '<!-- runs-in-repo -->';
const NOT_RUN = /^<!-- not-run: .+ -->$/;

interface Block {
  doc: string;
  /** Line of the opening fence (1-based). */
  line: number;
  lang: string;
  mark: 'sample' | 'repo' | 'not-run' | null;
  text: string;
}

/** Every fenced block of a Markdown text, with the mark on the line before its fence. */
function blocksOf(doc: string, markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const end = lines.findIndex((l, k) => k > i && l.trim() === '```');
    if (end === -1) throw new Error(`${doc}:${i + 1}: the block is not closed`);
    const before = (lines[i - 1] ?? '').trim();
    const mark = before === RUNS_ON_SAMPLE ? 'sample' : before === RUNS_IN_REPO ? 'repo' : NOT_RUN.test(before) ? 'not-run' : null;
    blocks.push({ doc, line: i + 1, lang: open[1] ?? '', mark, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const docs = ['README.md', ...(await readdir(join(repo, 'docs'))).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const blocks: Block[] = [];
for (const d of docs) blocks.push(...blocksOf(d, await readFile(join(repo, d), 'utf8')));
const isShell = (b: Block) => b.lang === 'sh' || b.lang === 'bash';

const made: string[] = [];
after(async () => {
  for (const d of made) await rm(d, { recursive: true, force: true });
});

test('every shell block says whether it runs; runnable blocks call `npx refinery`, never bare `refinery`', () => {
  const unmarked = blocks.filter((b) => isShell(b) && b.mark === null).map((b) => `${b.doc}:${b.line}`);
  assert.deepEqual(unmarked, [], `shell blocks without ${RUNS_ON_SAMPLE}, ${RUNS_IN_REPO} or <!-- not-run: reason --> on the line before the fence`);
  const bare = blocks.filter((b) => isShell(b) && /(^|[|;&(]\s*|&&\s*)refinery\s/m.test(b.text)).map((b) => `${b.doc}:${b.line}`);
  assert.deepEqual(bare, [], 'blocks that call bare `refinery`, which is not on the PATH after npm ci');
  const marked = blocks.filter((b) => b.mark === 'sample' || b.mark === 'repo');
  for (const d of ['docs/filters.md', 'docs/mixes.md', 'docs/tokenize.md', 'docs/dedup.md']) assert.ok(marked.some((b) => b.doc === d), `no runnable block in ${d}`);
  for (const b of marked) assert.ok(isShell(b) || b.lang === 'yaml' || b.lang === 'sql', `${b.doc}:${b.line}: a marked \`\`\`${b.lang} block cannot be run`);
});

const exec = promisify(execFile);

async function runShell(block: Block, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await exec('bash', ['-euo', 'pipefail', '-c', block.text], { cwd, env, maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string; code?: number };
    assert.fail(`${block.doc}:${block.line} exited ${err.code}:\n${err.stderr?.slice(-3000)}\n${err.stdout?.slice(-2000)}`);
  }
}

async function runSql(block: Block, cwd: string): Promise<void> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`SET file_search_path = '${cwd.replaceAll("'", "''")}'`);
  const statements = block.text.split('\n').filter((l) => !l.trim().startsWith('--')).join('\n').split(';').map((s) => s.trim()).filter(Boolean);
  for (const sql of statements) {
    try {
      await db.runAndReadAll(sql);
    } catch (e) {
      assert.fail(`${block.doc}:${block.line}: DuckDB: ${(e as Error).message}\n${sql}`);
    }
  }
}

for (const doc of docs) {
  const runnable = blocks.filter((b) => b.doc === doc && (b.mark === 'sample' || b.mark === 'repo'));
  if (runnable.length === 0) continue;
  test(`${doc}: ${runnable.map((b) => `:${b.line}`).join(' ')} run as written on the sample corpus`, { timeout: 900_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'refinery-docs-'));
    made.push(dir);
    await cp(join(repo, 'examples'), join(dir, 'examples'), { recursive: true });
    await mkdir(join(dir, 'node_modules', '.bin'), { recursive: true });
    await symlink(join(repo, 'bin', 'refinery.mjs'), join(dir, 'node_modules', '.bin', 'refinery'));
    const env = { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' };
    for (const block of runnable) {
      if (block.mark === 'repo') await runShell(block, repo, env);
      else if (block.lang === 'yaml') {
        const file = `pipeline-${block.line}.yaml`;
        await writeFile(join(dir, file), `${block.text}\n`);
        await runShell({ ...block, text: `npx refinery run ${file} -q` }, dir, env);
      } else if (block.lang === 'sql') await runSql(block, dir);
      else await runShell(block, dir, env);
    }
  });
}
