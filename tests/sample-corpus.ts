/** The bundled sample corpus (examples/corpus; examples/SOURCES.md says where each file came from): where it is and its texts. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const SAMPLE_CORPUS = join(import.meta.dirname, '..', 'examples', 'corpus');

/** The texts of one file of the sample corpus. */
export function sampleTexts(file: string): string[] {
  return gunzipSync(readFileSync(join(SAMPLE_CORPUS, file)))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { text: string }).text);
}
