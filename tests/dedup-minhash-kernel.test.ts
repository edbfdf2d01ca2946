/**
 * The MinHash signature kernel (dedup/minhash/minima.wat, compiled by the build to minima.wasm):
 * the built binary is what the source compiles to; its signatures are the scalar loop's, and those
 * the hand-assembled module it replaces gave (a digest of every signature below, recorded from that
 * module); its Jaccard estimates are as good as the `minhash` npm package's on the same pairs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { compileMinimaKernel } from '../bin/compile-kernels.ts';
import { KERNEL_BINARY } from '../dedup/minhash/minima-kernel.ts';
import { MinHasher, estimateJaccard } from '../dedup/minhash/signature.ts';
import { jaccard, shingleSet, wordShingles } from '../dedup/minhash/shingles.ts';
import { normalizationSchema, normalizeText, wordsOf } from '../dedup/normalize-text.ts';
import { ProseGenerator, injectedCorpus } from './dedup-corpus.ts';
import { mulberry32 } from '../pipeline/seeded-random.ts';

/** Hash counts: multiples of 16 (four groups a turn), and others (groups left over). */
const KS = [4, 12, 16, 20, 52, 112, 128];

/** Shingle lists: random keys of 0 to 3,000 shingles, keys with few distinct bytes, and prose. */
function shingleLists(): Uint32Array[] {
  const random = mulberry32(11);
  const lists: Uint32Array[] = [new Uint32Array(0)];
  for (let t = 0; t < 40; t++) {
    const shingles = new Uint32Array(2 * Math.floor(random() * (t < 20 ? 40 : 3000)));
    for (let i = 0; i < shingles.length; i++) shingles[i] = (random() * 2 ** 32) >>> 0;
    // Many repeated keys and shared table rows: ties of hi broken by lo.
    if (t % 3 === 0) for (let i = 0; i < shingles.length; i += 2) shingles[i] &= 0xff00ff0f;
    if (t % 5 === 0) for (let i = 0; i < shingles.length; i += 2) shingles[i] &= 0x0000000f;
    lists.push(shingles);
  }
  const gen = new ProseGenerator(3);
  const norm = normalizationSchema.parse({});
  for (let t = 0; t < 20; t++) lists.push(wordShingles(wordsOf(normalizeText(gen.document(20 + 60 * t), norm)), 5));
  return lists;
}

test('the built minima.wasm is what the build compiles from minima.wat', async () => {
  const built = readFileSync(new URL(`../dedup/minhash/${KERNEL_BINARY}`, import.meta.url));
  const compiled = await compileMinimaKernel();
  assert.ok(compiled.length > 0);
  assert.ok(Buffer.from(compiled).equals(built), 'dedup/minhash/minima.wasm is stale: run `npm run build`');
});

test('the kernel\'s signatures are the scalar loop\'s, and the digest recorded from the module it replaced', () => {
  const lists = shingleLists();
  const digest = createHash('sha256');
  for (const K of KS) {
    const [kernel, scalar] = [new MinHasher(K, 7), new MinHasher(K, 7, { simd: false })];
    for (const shingles of lists) {
      const sig = kernel.signature(shingles);
      assert.deepEqual(sig, scalar.signature(shingles), `K ${K}, ${shingles.length / 2} shingles`);
      digest.update(new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength));
    }
  }
  assert.equal(digest.digest('hex'), GOLDEN);
});

test('one kernel serves documents longer than its memory: it grows, and the signatures stay the scalar loop\'s', () => {
  const random = mulberry32(2);
  const [kernel, scalar] = [new MinHasher(112, 3), new MinHasher(112, 3, { simd: false })];
  for (const n of [10, 40_000, 5, 200_000, 3]) {
    const shingles = Uint32Array.from({ length: 2 * n }, () => (random() * 2 ** 32) >>> 0);
    assert.deepEqual(kernel.signature(shingles), scalar.signature(shingles), `${n} shingles`);
  }
});

test('Jaccard estimates from the kernel\'s signatures are as close as the `minhash` npm package\'s', () => {
  interface MinhashPackage {
    new (config: { numPerm: number; seed?: number }): { update(s: string): void; jaccard(o: unknown): number };
  }
  const { Minhash } = createRequire(import.meta.url)('minhash') as { Minhash: MinhashPackage };
  const K = 112;
  const norm = normalizationSchema.parse({});
  const corpus = injectedCorpus(21, 150, 300, 0.5, 1);
  const texts = new Map(corpus.shards.flat().map((d) => [d.id, wordsOf(normalizeText(d.text, norm))]));
  const ours = new MinHasher(K, 1);
  const theirs = (words: string[]) => {
    const m = new Minhash({ numPerm: K, seed: 1 });
    for (let i = 0; i + 5 <= words.length; i++) m.update(words.slice(i, i + 5).join(' '));
    return m;
  };
  let errOurs = 0;
  let errTheirs = 0;
  for (const p of corpus.pairs) {
    const [a, b] = [texts.get(p.a), texts.get(p.b)];
    assert.ok(a && b);
    const [sa, sb] = [wordShingles(a, 5), wordShingles(b, 5)];
    const j = jaccard(shingleSet(sa), shingleSet(sb));
    errOurs += Math.abs(estimateJaccard(ours.signature(sa), ours.signature(sb)) - j);
    errTheirs += Math.abs(theirs(a).jaccard(theirs(b)) - j);
  }
  const n = corpus.pairs.length;
  // Both estimate J from 112 hashes; sampling error alone separates them.
  assert.ok(errOurs / n <= (errTheirs / n) * 1.25, `mean error ${errOurs / n} (refinery) vs ${errTheirs / n} (minhash npm)`);
});

/** SHA-256 of the signatures above as the hand-assembled module that minima.wat replaced gave them. */
const GOLDEN = '2a4d1672eca384e9935a12800093827d09869bfd6260b2d08d7db70bca00218b';
