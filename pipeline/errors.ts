/**
 * Errors a user can act on: each names the file, line/offset or config key it concerns.
 * The CLI prints `message` (no stack trace) and exits non-zero.
 */
export class RefineryError extends Error {
  override name = 'RefineryError';
}

/** A config value is wrong; `keyPath` is like `stages[2].options.min_words`. */
export class ConfigError extends RefineryError {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly keyPath: string,
    readonly problem: string,
  ) {
    super(`${file}: ${keyPath || '(top level)'}: ${problem}`);
  }
}

/** Something is wrong in an input file at a line (1-based) or byte offset. */
export class InputError extends RefineryError {
  override name = 'InputError';
  constructor(
    readonly file: string,
    readonly where: { line?: number; offset?: number },
    readonly problem: string,
  ) {
    super(`${file}${where.line !== undefined ? `:${where.line}` : ''}${where.offset !== undefined ? ` (byte ${where.offset})` : ''}: ${problem}`);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
