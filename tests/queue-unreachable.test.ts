/**
 * Queue commands with Redis unreachable (nothing listens on port 1): `status` and `submit` give
 * up with one line and exit code 1; `worker` says so once, keeps retrying, and stops on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, runCli } from './cli-processes.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NOWHERE = 'redis://127.0.0.1:1';

const cli = (args: string[]) => runCli(ROOT, args);

test('status and submit give up after --timeout with one line naming the URL, exit code 1', async () => {
  for (const args of [
    ['status', 'abc', '--redis', NOWHERE, '--timeout', '0.5'],
    ['submit', join('examples', 'quickstart.yaml'), '--redis', NOWHERE, '--timeout', '0.5'],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^refinery: Redis unreachable at redis:\/\/127\.0\.0\.1:1: no connection within 0\.5 s \(connect ECONNREFUSED 127\.0\.0\.1:1\)\n$/);
  }
});

test('a worker says once that Redis is unreachable, prints no stack trace, and exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
  const proc = spawn(process.execPath, [BIN, 'worker', '--redis', NOWHERE, '-c', '1'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  try {
    // Several reconnection attempts (ioredis retries every 50–2000 ms) before the signal.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (log.includes('Redis unreachable')) {
          clearInterval(poll);
          setTimeout(resolve, 1500);
        }
      }, 50);
    });
    proc.kill('SIGTERM');
    assert.equal(await exited, 0, log);
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
  assert.equal(log.match(/Redis unreachable at redis:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED 127\.0\.0\.1:1\), retrying/g)?.length, 1, log);
  assert.doesNotMatch(log, /\n\s+at |TCPConnectWrap|errno/, log);
  assert.match(log, /stopped\n$/);
});
