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

// ---- Honest comments: no issue numbers, no history, no profile figure without the bench that measures it.

interface CommentLine {
  line: number;
  text: string;
}

/**
 * The comments of a source text as blocks of lines: a `/* ... *\/` comment is one block, and so is a
 * run of `//` comments on consecutive lines. Strings, templates (with `${}` nesting) and regex
 * literals are skipped, so `'corpus/*.jsonl'` or `/\/\//` open no comment.
 */
function commentBlocks(src: string): CommentLine[][] {
  const blocks: CommentLine[][] = [];
  const holes: number[] = []; // brace depth at each open `${`
  let i = 0;
  let line = 1;
  let depth = 0;
  let prev = ''; // the last code character: a `/` after an operand divides, elsewhere it opens a regex
  let lastLineComment = -1;
  const add = (start: number, end: number, isLine: boolean) => {
    const lines = src.slice(start, end).split('\n').map((text, k) => ({ line: line + k, text }));
    if (isLine && lastLineComment === line - 1 && blocks.length > 0) blocks[blocks.length - 1]!.push(...lines);
    else blocks.push(lines);
    lastLineComment = isLine ? line : -1;
  };
  const skip = (to: number) => {
    for (; i < to && i < src.length; i++) if (src[i] === '\n') line++;
  };
  const template = () => {
    while (i < src.length) {
      if (src[i] === '\\') skip(i + 2);
      else if (src[i] === '`') return void i++;
      else if (src[i] === '$' && src[i + 1] === '{') {
        holes.push(depth++);
        return void (i += 2);
      } else skip(i + 1);
    }
  };
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === '/' && (next === '/' || next === '*')) {
      const close = next === '/' ? src.indexOf('\n', i) : src.indexOf('*/', i + 2);
      const end = close < 0 ? src.length : next === '/' ? close : close + 2;
      add(i, end, next === '/');
      skip(end);
    } else if (c === "'" || c === '"') {
      i++;
      while (i < src.length && src[i] !== c && src[i] !== '\n') skip(i + (src[i] === '\\' ? 2 : 1));
      i++;
      prev = 'a';
    } else if (c === '`') {
      i++;
      template();
      prev = 'a';
    } else if (c === '}' && holes.length > 0 && holes[holes.length - 1] === depth - 1) {
      holes.pop();
      depth--;
      i++;
      template();
      prev = 'a';
    } else if (c === '/' && (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev) || /\b(?:return|typeof|case|of|in)\s*$/.test(src.slice(Math.max(0, i - 8), i)))) {
      let inClass = false;
      for (i++; i < src.length && src[i] !== '\n' && (inClass || src[i] !== '/'); i++) {
        if (src[i] === '\\') i++;
        else if (src[i] === '[') inClass = true;
        else if (src[i] === ']') inClass = false;
      }
      if (src[i] === '/') i++;
      prev = 'a';
    } else {
      if (c === '{') depth++;
      if (c === '}') depth--;
      // `x!` and `f()!` are non-null assertions, not the `!` before an operand
      if (!/\s/.test(c)) prev = c === '!' && /[\w$)\]]/.test(prev) ? 'a' : c;
      skip(i + 1);
    }
  }
  return blocks;
}

/** Our issue numbers ("issue 16", "issue-16 bench"); an upstream issue is cited by its URL. */
const ISSUE_NUMBER = /\b[Ii]ssues?[- ]?#?\d+/;
/** History instead of a reason. */
const HISTORY = /\bwent from\b|(?<!\b(?:is|are|be|been|being|gets?|got)\s)\bused to\b/;
/** A speed, a time taken or a speed ratio: a profile figure. Sizes, counts and "2x.png" are not. */
const PROFILE_FIGURE = new RegExp(
  [
    String.raw`\d(?:\.\d+)?\s?[kMG]i?B/s\b`,
    String.raw`\d(?:\.\d+)?\s?[kMG]?\s?(?:tokens|docs|documents|pages|rows|words|updates)?/s\b`,
    String.raw`\d(?:\.\d+)?x\s+(?:faster|slower|cheaper|quicker|the\s+(?:CPU|speed|time|throughput|cost))\b`,
    String.raw`\d(?:\.\d+)?x\s+[\w-]+(?:'s)?\s+(?:speed|CPU|time|throughput)\b`,
    String.raw`\b(?:faster|slower|cheaper)\b[^.]{0,40}\b\d+(?:\.\d+)?x\b`,
    String.raw`\b\d+(?:\.\d+)?%\s+(?:faster|slower|cheaper|less CPU|more CPU)`,
    String.raw`(?:~|\babout |\btook |\btakes? |\bagainst ~?|\bcosts? |\bin )\d+(?:\.\d+)?\s?(?:ms|s|µs|us|ns|min)\b`,
    String.raw`\b\d+(?:\.\d+)?\s?(?:ms|s|µs|min)\s+(?:of\s+)?CPU\b`,
    String.raw`\bCPU\s+(?:s|seconds)\b|\bCPU:\s*~?\d`,
    String.raw`\d\s*->\s*~?\d+(?:\.\d+)?\s*(?:ms|s|CPU)\b`,
  ].join('|'),
);
/** A comment block that names the benchmark measuring its figure may carry it. */
const NAMES_A_BENCH = /\bbench\/[\w.-]+\.(?:ts|mjs)\b/;

/** `file:line why: text` for each comment line of `src` that breaks the rules above. */
function dishonestComments(file: string, src: string): string[] {
  const found: string[] = [];
  for (const block of commentBlocks(src)) {
    const namesBench = block.some((l) => NAMES_A_BENCH.test(l.text));
    for (const { line, text } of block) {
      const why = ISSUE_NUMBER.test(text) ? 'an issue number' : HISTORY.test(text) ? 'history' : !namesBench && PROFILE_FIGURE.test(text) ? 'a profile figure without the bench/ file that measures it' : null;
      if (why) found.push(`${file}:${line} ${why}: ${text.trim()}`);
    }
  }
  return found;
}

test('product-code comments carry no issue number, no "went from" history, and no profile figure without the bench that measures it', () => {
  const files = productFolders().flatMap(sourceFiles);
  const found = files.flatMap((f) => dishonestComments(f, readFileSync(join(root, f), 'utf8')));
  assert.ok(files.length > 100, `the scan found only ${files.length} files`);
  assert.deepEqual(found, [], `comments to rewrite (say why; name the bench/ file instead of its figure):\n${found.join('\n')}`);
});

test('the comment check finds what it looks for, and only in comments', () => {
  const src = [
    "const glob = 'corpus/*.jsonl'; // see issue 16",
    'const re = /\\/\\/ not a comment/; const half = total / 2; const n = xs[0]! / 2;',
    '/**',
    ' * The new scan went from 0.7 MB/s to more.',
    ' * Took 1.8 s to build (about 20 ms now), 2-3x faster.',
    ' */',
    'const t = `a ${`b /* not a comment */ ${1}`} // still a string`;',
    '// RFC 2606, icon@2x.png, 46 MB of input, every 50 ms, 7,000 documents, up to 2x the weight:',
    '// all legitimate. https://github.com/openai/tiktoken/issues/195 is a citation.',
    '/** Our WARC inflation: 1.7x faster than warcio\'s (bench/readers.bench.ts). */',
  ].join('\n');
  const blocks = commentBlocks(src);
  assert.deepEqual(blocks.map((b) => b.map((l) => l.line)), [[1], [3, 4, 5, 6], [8, 9], [10]]);
  assert.deepEqual(
    dishonestComments('f.ts', src).map((h) => h.split(': ')[0]),
    ['f.ts:1 an issue number', 'f.ts:4 history', 'f.ts:5 a profile figure without the bench/ file that measures it'],
  );
});

test('index safety: the product code compiles with noUncheckedIndexedAccess (npm test builds it), so each `x[i]!` is a claim the compiler asked for', () => {
  const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { compilerOptions?: { noUncheckedIndexedAccess?: boolean }; include?: string[] };
  assert.equal(build.compilerOptions?.noUncheckedIndexedAccess, true);
  assert.deepEqual([...(build.include ?? [])].sort(), productFolders().sort(), 'the build covers every product folder');
});
