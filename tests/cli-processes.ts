/**
 * The `refinery` command as separate processes, for the tests of queue workers and run control:
 * one-shot commands with their exit code and output, long-running processes (workers) with their
 * stderr kept for the message of a failed wait, and a wait that polls until a probe holds.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const BIN = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'refinery.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `refinery <args>` in `cwd` to its end; a failing command resolves with its exit code. */
export function runCli(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env, maxBuffer: 1 << 26 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

export interface CliProcess {
  proc: ChildProcess;
  /** What it wrote to stderr so far. */
  log: () => string;
  exited: Promise<number | null>;
}

/** Starts `refinery <args>` in `cwd` and adds it to `children`, which the test kills after it. */
export function startCli(cwd: string, args: string[], children: ChildProcess[], env: NodeJS.ProcessEnv = process.env): CliProcess {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(proc);
  let log = '';
  proc.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, log: () => log, exited };
}

/** Polls until `probe` gives a value; on time-out the error shows the logs of the given processes. */
export async function until<T>(what: string, probe: () => Promise<T | null | false | undefined>, processes: { log: () => string }[] = [], timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${processes.map((w) => w.log().slice(-3000)).join('\n---\n')}`);
    await sleep(everyMs);
  }
}
