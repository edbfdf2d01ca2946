/** Write-then-rename, so a reader never sees a half-written file and a rerun overwrites cleanly. */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export function tempNameFor(path: string): string {
  return `${path}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempNameFor(path);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Flushes a written file to disk, so that a rename after it never exposes an empty file after a crash. */
export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** JSON with sorted keys and a final newline: the same value always gives the same bytes. */
export function stableJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, sortKeys, indent) + '\n';
}

function sortKeys(_key: string, v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v as Record<string, unknown>).sort()) out[k] = (v as Record<string, unknown>)[k];
  return out;
}
