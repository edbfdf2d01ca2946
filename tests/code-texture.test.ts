/**
 * The shape of the product code, checked on every test run: no import cycles, a core that imports
 * no domain folder and names no other implementation in its contract.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
/** Folders that are not product code. */
const NOT_PRODUCT = new Set(['tests', 'bench', 'examples', 'node_modules', 'dist', 'docs']);
/** The core and the shared text kit: they import no domain folder. */
const SHARED = ['pipeline', 'text'];

function productFolders(): string[] {
  return readdirSync(root).filter((f) => !f.startsWith('.') && !NOT_PRODUCT.has(f) && statSync(join(root, f)).isDirectory());
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Relative specifiers a file imports: static imports and re-exports, and import() of a literal. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    specs.push((m[1] ?? m[2] ?? m[3])!);
  }
  return specs;
}

function resolveImport(from: string, spec: string): string | null {
  const base = join(dirname(from), spec);
  for (const c of [base, `${base}.ts`]) if (existsSync(join(root, c)) && statSync(join(root, c)).isFile()) return c;
  return null;
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const folder of productFolders()) {
    for (const f of sourceFiles(folder)) {
      graph.set(f, importsOf(f).map((s) => resolveImport(f, s)).filter((x): x is string => x !== null));
    }
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

test('the product code has no import cycle (type imports and import() of a literal count)', () => {
  const graph = importGraph();
  assert.ok(graph.size > 100, `the scan found only ${graph.size} files`);
  assert.ok([...graph.values()].some((deps) => deps.length > 3), 'the scan found imports');
  const found = cycles(graph);
  assert.deepEqual(found, [], `import cycles:\n${found.map((c) => `  ${c.join(' -> ')}`).join('\n')}`);
});

test('the cycle check finds a cycle when there is one', () => {
  const graph = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
    ['d.ts', ['a.ts']],
  ]);
  assert.deepEqual(cycles(graph), [['a.ts', 'b.ts', 'c.ts']]);
  assert.deepEqual(importsOf('tests/code-texture.test.ts'), [], 'this file imports no relative module');
});

test('the core (pipeline/) and the text kit (text/) import no domain folder', () => {
  const domains = productFolders().filter((f) => !SHARED.includes(f) && f !== 'bin');
  const wrong: string[] = [];
  for (const [file, deps] of importGraph()) {
    const top = file.split('/')[0]!;
    if (!SHARED.includes(top)) continue;
    for (const d of deps) if (domains.includes(d.split('/')[0]!)) wrong.push(`${file} -> ${d}`);
    if (top === 'text') for (const d of deps) if (d.split('/')[0] === 'pipeline' && !/^pipeline\/(doc|hash|utf8)\.ts$/.test(d)) wrong.push(`${file} -> ${d} (the text kit needs only Doc, hashing and UTF-8 helpers from the core)`);
  }
  assert.deepEqual(wrong, []);
});

test('the core names no other implementation: "datatrove" appears in pipeline/ only as the name of an output file format', () => {
  const hits: string[] = [];
  for (const f of sourceFiles('pipeline')) {
    readFileSync(join(root, f), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/datatrove/i.test(line)) hits.push(`${relative(root, join(root, f))}:${i + 1}`);
      });
  }
  // pipeline/io/document-layout.ts writes kept/ and rejected/ in the layouts other tools read
  // (`output_format: datatrove` is the layout datatrove's JsonlReader reads, as `dolma` is Dolma's).
  assert.deepEqual(hits.filter((h) => !h.startsWith('pipeline/io/document-layout.ts:')), []);
});
