/**
 * Credentials in URLs the program is given (AWS_ENDPOINT_URL, --redis, any URL argument) are
 * redacted from every message it prints, as the LLM endpoint's are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { environmentSecrets, REDACTED, redactUrl, urlSecrets } from '../pipeline/secrets.ts';
import { tempDir } from './temp-dirs.ts';

const BIN = resolve('bin/refinery.mjs');
const PASSWORD = 's3cr3t-Passw0rd';

test('a URL with user:password@ or a credential query value is printed without them', () => {
  assert.equal(redactUrl(`http://minio:${PASSWORD}@127.0.0.1:9000/`), `http://${REDACTED}@127.0.0.1:9000/`);
  assert.equal(redactUrl('redis://:hunter2hunter2@db:6379'), `redis://${REDACTED}@db:6379`);
  assert.equal(redactUrl('https://h/x?X-Amz-Signature=abcdef123456&part=1'), `https://h/x?X-Amz-Signature=${REDACTED}&part=1`);
  assert.equal(redactUrl('https://u:pw@h/'), `https://${REDACTED}@h/`, 'a short password is redacted beside its user name');
  assert.deepEqual(urlSecrets('s3://bucket/prefix/'), []);
  assert.ok(environmentSecrets({ AWS_ENDPOINT_URL: `http://minio:${PASSWORD}@h:9000`, HOME: '/root' }).includes(PASSWORD));
});

function refinery(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
}

test('credentials in AWS_ENDPOINT_URL never appear in what a failed run prints', async () => {
  const dir = await tempDir('refinery-holes-secrets-');
  await writeFile(join(dir, 'p.yaml'), 'inputs: ["s3://bucket/data/*.jsonl"]\noutput: out\nstages: []\n');
  const endpoint = `http://minio:${PASSWORD}@127.0.0.1:1`;
  const r = refinery(['run', join(dir, 'p.yaml'), '-q'], {
    AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'minio', AWS_SECRET_ACCESS_KEY: 'the-secret-key', AWS_REGION: 'us-east-1', AWS_MAX_ATTEMPTS: '1', REFINERY_DEBUG: '1',
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /127\.0\.0\.1:1/, r.stderr);
  assert.ok(!(r.stdout + r.stderr).includes(PASSWORD), r.stderr);
  assert.ok(!(r.stdout + r.stderr).includes('the-secret-key'), r.stderr);
});

test('a password in --redis never appears in what the command prints', () => {
  const r = refinery(['status', 'abc', '--redis', `redis://:${PASSWORD}@127.0.0.1:1`, '--timeout', '0.5']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`Redis unreachable at redis://${REDACTED.replace(/[[\]]/g, '\\$&')}@127\\.0\\.0\\.1:1`));
  assert.ok(!r.stderr.includes(PASSWORD), r.stderr);
});
