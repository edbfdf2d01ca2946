/**
 * Options written once, in a zod object schema: the schema that validates a stage's YAML
 * `options` (or a command's own options) also gives the command-line flags their type, default
 * and help text (`addSchemaFlags`), turns the flags given back into options checked by the same
 * schema (`schemaFlagValues`), and lists the options for `refinery stages NAME`
 * (`optionFields`). Field descriptions are the schema's `.describe()` texts; types and defaults
 * are read through zod's JSON Schema conversion.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { RefineryError } from '../errors.ts';

/** A JSON Schema node, as `z.toJSONSchema` writes it (only the keys read here). */
interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/** One option of a schema, as `refinery stages NAME` prints it. */
export interface OptionField {
  /** Dotted path; `[]` marks the items of a list, e.g. `where[].field`. */
  key: string;
  /** E.g. `integer ≥ 1`, `"chat" | "completions"`, `list of string`, `number | null`. */
  type: string;
  /** The schema's default; absent when it has none. */
  default?: unknown;
  required: boolean;
  description: string;
}

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

const SAFE = Number.MAX_SAFE_INTEGER;

function typeName(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(typeName).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.length > 1) return types.map((t) => typeName({ ...s, type: t })).join(' | ');
  const t = types[0];
  if (t === 'integer' || t === 'number') {
    const bounds: string[] = [];
    if (s.minimum !== undefined && s.minimum > -SAFE) bounds.push(`≥ ${s.minimum}`);
    if (s.exclusiveMinimum !== undefined) bounds.push(`> ${s.exclusiveMinimum}`);
    if (s.maximum !== undefined && s.maximum < SAFE) bounds.push(`≤ ${s.maximum}`);
    if (s.exclusiveMaximum !== undefined) bounds.push(`< ${s.exclusiveMaximum}`);
    return [t, ...bounds].join(' ');
  }
  if (t === 'array') {
    if (s.prefixItems) return `list of [${s.prefixItems.map(typeName).join(', ')}]`;
    return `list of ${s.items ? typeName(s.items) : 'any'}`;
  }
  return t ?? 'any';
}

/** The object schema inside a node (itself, an object item of a list, or a branch of anyOf). */
function objectOf(s: JsonSchema): { node: JsonSchema; list: boolean } | undefined {
  if (s.properties) return { node: s, list: false };
  if (s.items?.properties) return { node: s.items, list: true };
  const branch = s.anyOf?.find((b) => b.properties);
  return branch ? { node: branch, list: false } : undefined;
}

function fieldsOf(node: JsonSchema, prefix: string, out: OptionField[]): OptionField[] {
  for (const [key, s] of Object.entries(node.properties ?? {})) {
    const path = `${prefix}${key}`;
    const inner = objectOf(s);
    out.push({
      key: path,
      type: inner && !inner.list ? 'object' : inner ? 'list of objects' : typeName(s),
      ...(s.default !== undefined ? { default: s.default } : {}),
      required: (node.required ?? []).includes(key) && s.default === undefined,
      description: s.description ?? '',
    });
    if (inner) fieldsOf(inner.node, `${path}${inner.list ? '[]' : ''}.`, out);
  }
  return out;
}

/** Every option of an object schema, nested ones after their parent. */
export function optionFields(schema: z.ZodType): OptionField[] {
  return fieldsOf(jsonSchemaOf(schema), '', []);
}

/** How a command takes options from a schema. */
export interface SchemaFlags<S extends ObjectSchema> {
  schema: S;
  /** Only these keys (default: every key whose value can be written as one flag). */
  only?: readonly (keyof S['shape'] & string)[];
  /** Keys left out. */
  omit?: readonly (keyof S['shape'] & string)[];
  /** Flag text for a key, e.g. `'-n, --n <count>'`; default `--<key with dashes> <type>`. */
  flags?: Partial<Record<keyof S['shape'] & string, string>>;
  /** Parser of a key's value with a syntax of its own (e.g. sizes such as 1GB). */
  parsers?: Partial<Record<keyof S['shape'] & string, (value: string) => unknown>>;
  /** Help text instead of the schema's description. */
  help?: Partial<Record<keyof S['shape'] & string, string>>;
  /** Written before each help text, e.g. `semantic:` when one method of a command takes the flag. */
  context?: string;
}

/** One flag derived from one schema key. */
interface DerivedFlag {
  key: string;
  option: Option;
}

/** The node without its `null` branch (a nullable option is given on the command line as its value). */
function nonNull(s: JsonSchema): JsonSchema {
  if (s.anyOf) {
    const rest = s.anyOf.filter((b) => b.type !== 'null');
    return rest.length === 1 ? { ...rest[0]!, description: s.description, default: s.default } : { ...s, anyOf: rest };
  }
  if (Array.isArray(s.type)) {
    const rest = s.type.filter((t) => t !== 'null');
    return { ...s, type: rest.length === 1 ? rest[0] : rest };
  }
  return s;
}

function isScalar(s: JsonSchema): boolean {
  if (s.anyOf) return s.anyOf.every(isScalar);
  return s.const !== undefined || s.enum !== undefined || ['string', 'number', 'integer', 'boolean'].includes(String(s.type));
}

/** Value of one flag argument in the type the schema asks for; undefined when it cannot be. */
function convert(s: JsonSchema, value: string): unknown {
  if (s.anyOf) {
    for (const b of s.anyOf) {
      const v = convert(b, value);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  if (s.const !== undefined) return String(s.const) === value ? s.const : undefined;
  if (s.type === 'array') return value.split(',').map((item) => item.trim()).filter((item) => item !== '').map((item) => convert(s.items ?? {}, item) ?? item);
  if (s.type === 'number' || s.type === 'integer') {
    const n = value.trim() === '' ? NaN : Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  if (s.type === 'boolean') return value === 'true' ? true : value === 'false' ? false : undefined;
  return value;
}

function placeholder(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(placeholder).join('|');
  if (s.const !== undefined) return String(s.const);
  if (s.enum) return s.enum.join('|');
  if (s.type === 'integer') return 'n';
  if (s.type === 'number') return 'x';
  if (s.type === 'array') return `${placeholder(s.items ?? {})},...`;
  return 'value';
}

function issueText(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

function flagsOf<S extends ObjectSchema>(spec: SchemaFlags<S>): DerivedFlag[] {
  const json = jsonSchemaOf(spec.schema);
  const required = new Set(json.required ?? []);
  const out: DerivedFlag[] = [];
  for (const [key, raw] of Object.entries(json.properties ?? {})) {
    const k = key as keyof S['shape'] & string;
    if (spec.only && !spec.only.includes(k)) continue;
    if (spec.omit?.includes(k)) continue;
    const s = nonNull(raw);
    const parser = spec.parsers?.[k];
    const list = s.type === 'array' && s.items !== undefined && isScalar(s.items);
    if (!parser && !list && !isScalar(s)) continue;
    const name = key.replaceAll('_', '-');
    const help = [spec.context, spec.help?.[k] ?? raw.description].filter(Boolean).join(' ');
    const boolean = s.type === 'boolean';
    const flag = spec.flags?.[k] ?? (boolean ? (raw.default === true ? `--no-${name}` : `--${name}`) : `--${name} <${placeholder(s)}>`);
    const option = new Option(flag, help);
    const field = spec.schema.shape[key] as z.ZodType;
    if (!boolean) {
      option.argParser((value: string) => {
        const v = parser ? parser(value) : convert(s, value);
        if (v === undefined) throw new InvalidArgumentError(`expected ${typeName(s)}`);
        const checked = field.safeParse(v);
        if (!checked.success) throw new InvalidArgumentError(issueText(checked.error));
        return v;
      });
      if (s.enum && s.enum.every((e) => typeof e === 'string') && !parser) option.choices(s.enum as string[]);
    }
    if (raw.default !== undefined && raw.default !== null && !(boolean && raw.default === true)) {
      option.default(raw.default, Array.isArray(raw.default) ? raw.default.join(',') : undefined);
    }
    if (required.has(key) && raw.default === undefined) option.makeOptionMandatory();
    out.push({ key, option });
  }
  return out;
}

const registered = new WeakMap<Command, DerivedFlag[]>();

/** Adds a flag for each option of the schema (scalars and lists of scalars; nested objects stay in YAML). */
export function addSchemaFlags<S extends ObjectSchema>(cmd: Command, spec: SchemaFlags<S>): Command {
  const flags = flagsOf(spec);
  for (const f of flags) cmd.addOption(f.option);
  registered.set(cmd, [...(registered.get(cmd) ?? []), ...flags]);
  return cmd;
}

/**
 * The options given on the command line (flags left at their default are left out, so that the
 * schema's own default applies where the options are parsed), checked with `extra` against the
 * whole schema; an error names the flag.
 */
export function schemaFlagValues<S extends ObjectSchema>(cmd: Command, schema: S, extra: Partial<z.input<S>> = {}): Partial<z.input<S>> {
  const given: Record<string, unknown> = {};
  const flagOf = new Map<string, string>();
  for (const { key, option } of registered.get(cmd) ?? []) {
    if (!(key in schema.shape)) continue;
    const attr = option.attributeName();
    flagOf.set(key, option.long ?? option.flags);
    const source = cmd.getOptionValueSource(attr);
    if (source !== undefined && source !== 'default') given[key] = cmd.getOptionValue(attr);
  }
  const checked = schema.safeParse({ ...extra, ...given });
  if (!checked.success) {
    const messages = checked.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      const where = flagOf.get(key) ?? (key || 'options');
      return `${where}${i.path.length > 1 ? ` (${i.path.slice(1).join('.')})` : ''}: ${i.message}`;
    });
    throw new RefineryError(`${cmd.name()}: ${messages.join('; ')}`);
  }
  return { ...extra, ...given } as Partial<z.input<S>>;
}

/**
 * The options for `refinery stages NAME`, two lines each:
 *   n_grams (integer ≥ 1 ≤ 64, default 5)
 *       Word n-grams per shingle (FineWeb: 5).
 */
export function formatOptionFields(fields: readonly OptionField[]): string {
  if (fields.length === 0) return '(no options)\n';
  return fields
    .map((f) => {
      // An object's default is its fields' defaults, listed below it.
      const value = f.required ? 'required' : f.default === undefined ? 'optional' : f.type === 'object' ? '' : `default ${JSON.stringify(f.default)}`;
      return `${f.key} (${[f.type, value].filter(Boolean).join(', ')})\n${f.description ? `    ${f.description}\n` : ''}`;
    })
    .join('');
}
