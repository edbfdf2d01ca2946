/**
 * Secrets the program is given inside URLs and the environment, and their redaction from what
 * it prints. A URL's `user:password@` and its query values named like a credential (`token`,
 * `key`, `signature`, ...) are secrets, wherever the URL comes from: `AWS_ENDPOINT_URL`, a proxy
 * variable, `--redis`, `--endpoint`. So are `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
 * Libraries put the URLs they were given into their error messages, so `redactOutput` makes
 * every line the process writes to stdout and stderr (worker threads' included, which reach the
 * terminal through the main thread's streams) pass through the redaction.
 */
export const REDACTED = '[redacted]';

/** Query parameters whose values are credentials (presigned URLs, API tokens). */
const SECRET_PARAMETER = /(key|token|secret|signature|password|passwd|credential|auth)/i;

/** Environment variables that hold a secret as they are. */
const SECRET_VARIABLES = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

/**
 * The shortest secret replaced wherever it appears: a shorter one is as common as a word, and
 * would blank that word in every message (a URL's short password is still replaced together with
 * its user name).
 */
const MIN_ALONE = 6;

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** The secrets a URL carries: its password (and `user:password`), and credential-like query values. */
export function urlSecrets(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  const secrets: string[] = [];
  if (u.password !== '') {
    const [user, password] = [safeDecode(u.username), safeDecode(u.password)];
    secrets.push(`${u.username}:${u.password}`, `${user}:${password}`, Buffer.from(`${user}:${password}`).toString('base64'));
    if (password.length >= MIN_ALONE) secrets.push(u.password, password);
  }
  for (const [name, value] of u.searchParams) if (value.length >= MIN_ALONE && SECRET_PARAMETER.test(name)) secrets.push(value, encodeURIComponent(value));
  return secrets;
}

/** Every secret in the URLs of `texts` (command-line arguments, environment values). */
export function secretsIn(texts: Iterable<string>): string[] {
  const out: string[] = [];
  for (const t of texts) for (const m of t.matchAll(URL_IN_TEXT)) out.push(...urlSecrets(m[0]));
  return out;
}

/** The secrets of the environment: credential variables, and the URLs of every variable. */
export function environmentSecrets(env: NodeJS.ProcessEnv): string[] {
  const out = SECRET_VARIABLES.map((v) => env[v] ?? '').filter((v) => v.length >= MIN_ALONE);
  out.push(...secretsIn(Object.values(env).filter((v): v is string => v !== undefined && v.includes('://'))));
  return out;
}

/** `url` as it may be printed: its secrets replaced. */
export function redactUrl(url: string): string {
  return new Redactor(urlSecrets(url)).redact(url);
}

export class Redactor {
  private readonly forms: string[];

  constructor(secrets: readonly string[]) {
    const forms = new Set<string>();
    for (const s of secrets) {
      if (!s) continue;
      forms.add(s);
      forms.add(encodeURIComponent(s));
      forms.add(JSON.stringify(s).slice(1, -1));
    }
    // longest first, so a secret that contains another is replaced whole
    this.forms = [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
  }

  get empty(): boolean {
    return this.forms.length === 0;
  }

  redact(text: string): string {
    let out = text;
    for (const f of this.forms) out = out.replaceAll(f, REDACTED);
    return out;
  }

  /** Redacts an error's message and stack in place (they may be printed at the top level). */
  redactError(e: unknown): unknown {
    if (e instanceof Error) {
      e.message = this.redact(e.message);
      if (e.stack) e.stack = this.redact(e.stack);
    }
    return e;
  }
}

type Write = NodeJS.WriteStream['write'];

/**
 * From now on, what this process writes to stdout and stderr has the secrets of `argv` and `env`
 * replaced. Each write is redacted as a whole: the program writes a message in one call.
 */
export function redactOutput(argv: readonly string[], env: NodeJS.ProcessEnv): Redactor {
  const redactor = new Redactor([...secretsIn(argv), ...environmentSecrets(env)]);
  if (redactor.empty) return redactor;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const redacting = (chunk: unknown, ...rest: unknown[]): boolean => {
      if (typeof chunk === 'string') return write(redactor.redact(chunk), ...rest);
      if (chunk instanceof Uint8Array) {
        const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
        const clean = redactor.redact(text);
        // An encoding argument named the string's; the chunk is now a string in UTF-8.
        return clean === text ? write(chunk, ...rest) : write(clean, ...rest.map((r) => (typeof r === 'string' ? 'utf8' : r)));
      }
      return write(chunk, ...rest);
    };
    stream.write = redacting as Write;
  }
  return redactor;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
