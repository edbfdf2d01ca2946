/**
 * The documented command sequences run as written: every ```sh block in docs/*.md that follows
 * a `<!-- runs-on-sample -->` line is run with bash (-e, -u, pipefail) in a fresh temporary
 * folder holding a copy of examples/, with `refinery` on the PATH, and must exit 0.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const MARK = '<!-- runs-on-sample -->';

interface Block {
  doc: string;
  line: number;
  script: string;
}

/** The marked blocks of one Markdown text: the fence must open on the line after the mark. */
function markedBlocks(doc: string, markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== MARK) continue;
    const fence = lines[i + 1]?.trim();
    if (fence !== '```sh' && fence !== '```bash') throw new Error(`${doc}:${i + 1}: ${MARK} must be followed by a \`\`\`sh block`);
    const end = lines.findIndex((l, k) => k > i + 1 && l.trim() === '```');
    if (end === -1) throw new Error(`${doc}:${i + 2}: the block is not closed`);
    blocks.push({ doc, line: i + 2, script: lines.slice(i + 2, end).join('\n') });
  }
  return blocks;
}

const blocks: Block[] = [];
for (const f of (await readdir(join(repo, 'docs'))).filter((f) => f.endsWith('.md')).sort()) {
  blocks.push(...markedBlocks(`docs/${f}`, await readFile(join(repo, 'docs', f), 'utf8')));
}

const made: string[] = [];
after(async () => {
  for (const d of made) await rm(d, { recursive: true, force: true });
});

test('the marked blocks are found (docs/mixes.md, docs/filters.md)', () => {
  const docs = new Set(blocks.map((b) => b.doc));
  for (const d of ['docs/filters.md', 'docs/mixes.md']) assert.ok(docs.has(d), `no ${MARK} block in ${d}`);
});

for (const block of blocks) {
  test(`${block.doc}:${block.line} runs as written on the sample corpus`, { timeout: 240_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'refinery-docs-'));
    made.push(dir);
    await cp(join(repo, 'examples'), join(dir, 'examples'), { recursive: true });
    const bin = join(dir, '.bin');
    await mkdir(bin);
    await writeFile(join(bin, 'refinery'), `#!/bin/sh\nexec node ${JSON.stringify(join(repo, 'bin', 'refinery.mjs'))} "$@"\n`);
    await chmod(join(bin, 'refinery'), 0o755);
    try {
      await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', block.script], {
        cwd: dir,
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (e) {
      const err = e as Error & { stdout?: string; stderr?: string; code?: number };
      assert.fail(`${block.doc}:${block.line} exited ${err.code}:\n${err.stderr?.slice(-3000)}\n${err.stdout?.slice(-2000)}`);
    }
  });
}
