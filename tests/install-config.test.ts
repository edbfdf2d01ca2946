/**
 * Issue 17 #12: onnxruntime-node's install step (which downloads from the network) is kept from
 * running by package.json's `allowScripts` (npm 11's own mechanism), not by an .npmrc key npm does
 * not know, which made every `npm`/`npx` call in the project warn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

test('npm reads the project config without an "Unknown project config" warning', () => {
  const r = spawnSync('npm', ['config', 'get', 'fund'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Unknown project config/);
});

test('onnxruntime-node\'s install script is denied in package.json, so npm ci downloads nothing', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
});
