/** Write-then-rename, so a reader never sees a half-written file and a rerun overwrites cleanly. */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export function tempNameFor(path: string): string {
  return `${path}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempNameFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
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
