/**
 * Stage definitions by name. The core knows no stage of its own: the composition root
 * (bin/builtin-stages.ts) registers the built-in stage modules by name, and pipelines name plugin
 * modules under `plugins:`. Both kinds of module export `stages: AnyStageDefinition[]`; a module
 * is imported only when a stage of it is first asked for, so a run loads the modules (and their
 * native dependencies: ONNX Runtime, tiktoken, fastText) of the stages it uses and no others.
 */
import { pathToFileURL } from 'node:url';
import type { AnyStageDefinition } from './stage.ts';
import { RefineryError } from './errors.ts';

/** Stage name → URL of the module that defines it (not imported yet). */
export type StageModuleTable = Record<string, string>;

const modules = new Map<string, string>();
const definitions = new Map<string, AnyStageDefinition>();
const loadedPlugins = new Set<string>();
let tsxRegistered = false;

/** Registers stages by the module that defines them; nothing is imported until a stage is used. */
export function registerStageModules(table: Readonly<StageModuleTable>): void {
  for (const [name, href] of Object.entries(table)) modules.set(name, href);
}

/** The registered table, for worker threads to register the same modules. */
export function stageModuleTable(): StageModuleTable {
  return Object.fromEntries(modules);
}

/**
 * Imports a module of stage definitions. A TypeScript module (a plugin) is loaded through tsx
 * when this process runs compiled JavaScript.
 */
async function importStages(href: string, what: string): Promise<AnyStageDefinition[]> {
  if (href.endsWith('.ts') && !tsxRegistered && !import.meta.url.endsWith('.ts')) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  const mod = (await import(href)) as { stages?: AnyStageDefinition[] };
  if (!Array.isArray(mod.stages)) throw new RefineryError(`${what} does not export \`stages\` (an array of stage definitions)`);
  return mod.stages;
}

function define(d: AnyStageDefinition, what: string): void {
  const known = definitions.get(d.name);
  if (known && known !== d) throw new RefineryError(`${what}: a stage named "${d.name}" exists already`);
  definitions.set(d.name, d);
}

/**
 * Loads stage plugins: modules that export `stages: AnyStageDefinition[]`. Every process that
 * runs tasks (threads, queue workers) loads them the same way.
 */
export async function loadPlugins(files: readonly string[]): Promise<void> {
  for (const file of files) {
    if (loadedPlugins.has(file)) continue;
    for (const d of await importStages(pathToFileURL(file).href, `plugin ${file}`)) {
      if (modules.has(d.name)) throw new RefineryError(`plugin ${file}: a stage named "${d.name}" exists already`);
      define(d, `plugin ${file}`);
    }
    loadedPlugins.add(file);
  }
}

/** The definition of a stage, importing its module on first use; undefined for an unknown name. */
export async function loadStage(name: string): Promise<AnyStageDefinition | undefined> {
  const known = definitions.get(name);
  if (known) return known;
  const href = modules.get(name);
  if (!href) return undefined;
  for (const d of await importStages(href, `the module of stage "${name}" (${href})`)) define(d, href);
  const def = definitions.get(name);
  if (!def) throw new RefineryError(`the module registered for stage "${name}" (${href}) does not define it`);
  return def;
}

/** A stage already loaded (by `loadStage` or a plugin); undefined otherwise. */
export function stageDefinition(name: string): AnyStageDefinition | undefined {
  return definitions.get(name);
}

/** Every stage name: registered built-ins and loaded plugins. */
export function stageNames(): string[] {
  return [...new Set([...modules.keys(), ...definitions.keys()])];
}

/** Every stage, loaded (for `refinery stages`). */
export async function loadAllStages(): Promise<AnyStageDefinition[]> {
  const out: AnyStageDefinition[] = [];
  for (const name of stageNames()) out.push((await loadStage(name))!);
  return out;
}

/**
 * A folder's table of stage modules: stage name → file (without extension) relative to `base`
 * (the table's own `import.meta.url`). Resolves to `.ts` when running from source, `.js` when
 * compiled.
 */
export function stageModules(base: string, files: Readonly<Record<string, string>>): StageModuleTable {
  const ext = base.endsWith('.ts') ? '.ts' : '.js';
  return Object.fromEntries(Object.entries(files).map(([name, file]) => [name, new URL(`${file}${ext}`, base).href]));
}
