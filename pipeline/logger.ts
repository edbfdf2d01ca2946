/**
 * The logs of long-running commands (`refinery worker`): pino, with a level, a timestamp and the
 * run and task ids as fields of each line. `json` writes pino's own lines (one JSON object each,
 * for a log collector); `text`, the default, one readable line each:
 *   refinery worker 2026-01-02T03:04:05.678Z 3f9c1e0a7b2d4c55 process-0-00001: started (attempt 1 of 3)
 * with the level written only when it is not `info`. Both go through process.stderr, whose output
 * is redacted of the credentials the program was given (pipeline/secrets.ts).
 */
import { pino, type Logger } from 'pino';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The fields that a log line of a task carries. */
export interface TaskFields {
  run?: string;
  task?: string;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One pino JSON line as the text format writes it. */
export function textLine(name: string, json: string): string {
  const o = JSON.parse(json) as { level?: number; time?: number; msg?: string; run?: string; task?: string; err?: { message?: string } };
  const level = o.level === undefined || o.level === 30 ? '' : `${LEVEL_NAMES[o.level] ?? o.level} `;
  const time = new Date(o.time ?? Date.now()).toISOString();
  const where = o.run && o.task ? `${o.run} ${o.task}: ` : o.run ? `${o.run}: ` : o.task ? `${o.task}: ` : '';
  const err = o.err?.message && !(o.msg ?? '').includes(o.err.message) ? `: ${o.err.message}` : '';
  return `refinery ${name} ${time} ${level}${where}${o.msg ?? ''}${err}\n`;
}

/** A logger named after the command (`worker`), writing `format` to stderr; `level` as pino names them. */
export function createLogger(name: string, format: LogFormat = 'text', level = process.env.REFINERY_LOG_LEVEL ?? 'info'): Logger {
  const stream = {
    write: (line: string) => {
      process.stderr.write(format === 'json' ? line : textLine(name, line));
    },
  };
  return pino({ name: `refinery ${name}`, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime }, stream);
}
