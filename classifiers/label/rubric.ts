/**
 * A grading rubric: a Markdown file whose YAML front matter says how the answer is read
 * (`kind: binary` or `kind: score` with `min`/`max`, an `answer_pattern` regex whose first group
 * is the verdict, an optional `system` prompt) and whose body is the user prompt, with
 * `{document}` where the document goes. Six ship in classifiers/rubrics/ (quality, educational value, and the code and math domains).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../../pipeline/errors.ts';
import { packagePath } from '../../pipeline/package-root.ts';

/** Folder of the shipped rubrics; `--rubric llama3-quality` names one of them. */
export const RUBRICS_DIR = packagePath('classifiers', 'rubrics');

const FrontMatter = z.object({
  name: z.string().min(1),
  kind: z.enum(['binary', 'score']),
  min: z.number().int().default(0),
  max: z.number().int().default(5),
  answer_pattern: z.string().min(1),
  system: z.string().default(''),
});

export interface Rubric {
  name: string;
  kind: 'binary' | 'score';
  min: number;
  max: number;
  system: string;
  /** The user prompt with `{document}` in it. */
  template: string;
  answerPattern: RegExp;
  /** The file it was read from. */
  path: string;
}

export function parseRubric(text: string, path: string): Rubric {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n([\s\S]*)$/.exec(text);
  if (!m) throw new InputError(path, { line: 1 }, 'a rubric starts with YAML front matter between "---" lines');
  const parsed = FrontMatter.safeParse(parseYaml(m[1]!));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(path, {}, `front matter: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const fm = parsed.data;
  const template = m[2]!.trim();
  if (!template.includes('{document}')) throw new InputError(path, {}, 'the prompt has no {document} placeholder');
  let answerPattern: RegExp;
  try {
    answerPattern = new RegExp(fm.answer_pattern, 'gi');
  } catch (e) {
    throw new InputError(path, {}, `answer_pattern: ${(e as Error).message}`);
  }
  return { name: fm.name, kind: fm.kind, min: fm.min, max: fm.max, system: fm.system.trim(), template, answerPattern, path };
}

/** A rubric by path, or by the name of a shipped one (`llama3-quality`, `fineweb-edu-additive`, `llama3-code`, `llama3-math`, `code-edu-additive`, `math-additive`). */
export async function loadRubric(pathOrName: string, baseDir = process.cwd()): Promise<Rubric> {
  const candidates = /[/\\]|\.md$/.test(pathOrName) ? [resolve(baseDir, pathOrName)] : [join(RUBRICS_DIR, `${pathOrName}.md`), resolve(baseDir, pathOrName)];
  for (const path of candidates) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    return parseRubric(text, path);
  }
  throw new InputError(pathOrName, {}, `no such rubric (a file, or one of the shipped names: ${(await shippedRubrics()).join(', ')})`);
}

/** The names of the rubrics in classifiers/rubrics/. */
export async function shippedRubrics(): Promise<string[]> {
  return (await readdir(RUBRICS_DIR)).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3)).sort();
}

export function renderPrompt(rubric: Rubric, document: string): string {
  return rubric.template.replace('{document}', () => document);
}

const YES = new Set(['yes', 'true', 'pass', 'high']);
const NO = new Set(['no', 'false', 'fail', 'low']);

/**
 * The label in an answer: 1/0 for a binary rubric, the integer score for a score rubric, or
 * null when the answer does not contain one (the last match of the pattern wins, since models
 * often restate the format before answering).
 */
export function parseAnswer(rubric: Rubric, answer: string): number | null {
  const matches = [...answer.matchAll(rubric.answerPattern)];
  let verdict = matches.length > 0 ? matches[matches.length - 1]![1] : undefined;
  if (verdict === undefined) {
    // A bare answer ("Yes.", "4") is unambiguous too.
    const bare = answer.trim().replace(/[.!*"']+$/g, '').replace(/^[*"']+/, '').trim();
    if (bare.length > 0 && bare.length <= 5) verdict = bare;
  }
  if (verdict === undefined) return null;
  const v = verdict.trim().toLowerCase();
  if (rubric.kind === 'binary') return YES.has(v) ? 1 : NO.has(v) ? 0 : null;
  if (!/^-?\d+$/.test(v)) return null;
  const n = Number(v);
  return n >= rubric.min && n <= rubric.max ? n : null;
}
