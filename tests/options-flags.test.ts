/**
 * Command-line flags come from the option schemas (pipeline/cli/option-flags.ts): a flag's default is
 * the schema's default, its help text is the schema's description, and a value the schema refuses
 * is refused when the flag is parsed, with an error naming the flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { z } from 'zod';
import { buildProgram } from '../bin/cli.ts';
import { addSchemaFlags, schemaFlagValues } from '../pipeline/cli/option-flags.ts';
import { TrainRunOptions } from '../classifiers/training-run.ts';
import { LabelRunOptions } from '../classifiers/label/labeller.ts';
import { qualityOptions } from '../classifiers/quality-stage.ts';
import { tokenizeOptions } from '../mixes/shards/tokenize-options.ts';
import { semanticDedupOptions } from '../dedup/semantic-dedup.ts';

type AnyObject = z.ZodObject<z.ZodRawShape>;

async function command(path: string[]): Promise<Command> {
  let cmd = await buildProgram();
  for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
  return cmd;
}

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** [command path, schema, the options it requires, its keys that are flags] for every command whose flags come from a schema. */
const COMMANDS: [string[], AnyObject, Record<string, unknown>, string[]?][] = [
  [['classify', 'label'], LabelRunOptions, { endpoint: 'http://127.0.0.1:1', model: 'm' }],
  [['classify', 'train'], TrainRunOptions, {}],
  [['classify', 'score'], qualityOptions, { model: 'm' }],
  [['tokenize'], tokenizeOptions, {}],
  [['dedup'], semanticDedupOptions, {}, ['model']],
];

test('every flag taken from a schema has the schema default as its default, and the schema description as its help', async () => {
  let checked = 0;
  for (const [path, schema, required, only] of COMMANDS) {
    const cmd = await command(path);
    const defaults = schema.parse(required) as Record<string, unknown>;
    for (const key of only ?? Object.keys(schema.shape)) {
      const option = cmd.options.find((o) => o.attributeName() === camel(key));
      if (!option) continue;
      const where = `${path.join(' ')} ${option.long}`;
      if (key in required) assert.ok(option.mandatory, `${where} is required, as in the schema`);
      else if (option.negate) assert.equal(defaults[key], true, `${where}: a --no- flag stands for a default of true`);
      else if (defaults[key] === undefined || defaults[key] === null) assert.equal(option.defaultValue, undefined, where);
      else assert.deepEqual(option.defaultValue, defaults[key], where);
      const description = (schema.shape[key] as z.ZodType).description;
      assert.ok(description && option.description.includes(description), `${where}: help is the schema's description`);
      checked++;
    }
  }
  assert.ok(checked >= 40, `${checked} flags checked`);
});

test('the defaults that used to be written twice are the schema defaults', async () => {
  const defaultOf = async (path: string[], flag: string) => (await command(path)).options.find((o) => o.long === flag)!.defaultValue;
  assert.equal(await defaultOf(['classify', 'train'], '--epochs'), TrainRunOptions.parse({}).epochs);
  assert.equal(await defaultOf(['classify', 'train'], '--buckets'), 262144);
  assert.equal(await defaultOf(['classify', 'label'], '--max-doc-tokens'), 2048);
  assert.equal(await defaultOf(['classify', 'label'], '--n'), 5000);
  assert.deepEqual(await defaultOf(['classify', 'score'], '--band-names'), ['low', 'mid', 'high']);
  assert.equal(await defaultOf(['tokenize'], '--shard-size'), tokenizeOptions.parse({}).shard_size);
});

/** Parses `args` for a command and returns the error commander raised (its message names the flag). */
async function parseError(path: string[], args: string[]): Promise<string> {
  const program = await buildProgram();
  let cmd: Command = program;
  for (const name of path) {
    cmd = cmd.commands.find((c) => c.name() === name)!;
    cmd.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
  }
  program.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
  try {
    await program.parseAsync(['node', 'refinery', ...path, ...args]);
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail(`${path.join(' ')} ${args.join(' ')} was accepted`);
}

test('a value the schema refuses is refused at the flag, naming it', async () => {
  // Each of these passed the command line before and failed only later, naming a YAML key or nothing.
  assert.match(await parseError(['classify', 'train'], ['l.jsonl', '-o', '/nonexistent/m', '--test-fraction', '2']), /option '--test-fraction <x>' argument '2' is invalid\..*<=0\.9/);
  assert.match(await parseError(['classify', 'score'], ['in.jsonl', '-o', '/nonexistent/o', '--model', 'm', '--batch-size', '100000']), /'--batch-size <n>' argument '100000' is invalid/);
  assert.match(await parseError(['classify', 'label'], ['in.jsonl', '-o', '/nonexistent/l', '--model', 'm', '--endpoint', 'not a url']), /'--endpoint <url>' argument 'not a url' is invalid/);
  assert.match(await parseError(['classify', 'label'], ['in.jsonl', '-o', '/nonexistent/l', '--model', 'm', '--endpoint', 'http://h', '--concurrency', '5000']), /'--concurrency <n>'/);
  assert.match(await parseError(['classify', 'score'], ['in.jsonl', '-o', '/nonexistent/o', '--model', 'm', '--threshold', 'high']), /'--threshold <x\|card>' argument 'high' is invalid\. expected number \| "card"/);
  assert.match(await parseError(['tokenize'], ['in.jsonl', '-o', '/nonexistent/t', '--seq-len', '1']), /'--seq-len <n>' argument '1' is invalid/);
  assert.match(await parseError(['tokenize'], ['in.jsonl', '-o', '/nonexistent/t', '--shard-size', 'big']), /'--shard-size <bytes>' argument 'big' is invalid/);
});

test('schemaFlagValues returns what was given, typed by the schema; defaults stay to the schema', async () => {
  const schema = z.object({
    count: z.number().int().min(1).default(3).describe('How many.'),
    ratio: z.number().nullable().default(null).describe('A ratio.'),
    names: z.array(z.string()).default(['a']).describe('Names.'),
    cuts: z.array(z.number()).optional().describe('Cuts.'),
    mode: z.enum(['fast', 'slow']).default('fast').describe('Mode.'),
    strict: z.boolean().default(true).describe('Strict.'),
    verbose: z.boolean().default(false).describe('Verbose.'),
    nested: z.object({ a: z.number().default(1) }).default({ a: 1 }).describe('Not a flag.'),
  });
  const run = async (args: string[]) => {
    let got: unknown;
    const cmd = new Command('x').exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
    addSchemaFlags(cmd, { schema });
    cmd.action((_o: unknown, c: Command) => {
      got = schemaFlagValues(c, schema);
    });
    await cmd.parseAsync(['node', 'x', ...args]);
    return got;
  };
  assert.deepEqual(await run([]), {});
  assert.deepEqual(await run(['--count', '7', '--ratio', '0.5', '--names', 'p, q', '--cuts', '1,2.5', '--mode', 'slow', '--no-strict', '--verbose']), {
    count: 7,
    ratio: 0.5,
    names: ['p', 'q'],
    cuts: [1, 2.5],
    mode: 'slow',
    strict: false,
    verbose: true,
  });
  await assert.rejects(run(['--count', '0']), /option '--count <n>' argument '0' is invalid\. Too small/);
  await assert.rejects(run(['--count', '2.5']), /'--count <n>' argument '2\.5' is invalid/);
  await assert.rejects(run(['--cuts', '1,x']), /'--cuts <x,...>' argument '1,x' is invalid/);
  await assert.rejects(run(['--mode', 'medium']), /Allowed choices are fast, slow/);
  await assert.rejects(run(['--nested-a', '2']), /unknown option '--nested-a'/);
});
