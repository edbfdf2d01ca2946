/**
 * Real-looking documents and injected near-duplicates for the dedup tests and benchmark: a word
 * bigram chain trained on tests/fixtures/dedup/public-domain-prose.txt (with random jumps so that
 * documents do not share long runs), and copies with a given rate of word edits.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Doc } from '../pipeline/doc.ts';
import { mulberry32 } from '../pipeline/seeded-random.ts';

export const PROSE = readFileSync(fileURLToPath(new URL('./fixtures/dedup/public-domain-prose.txt', import.meta.url)), 'utf8');

export class ProseGenerator {
  private readonly next = new Map<string, string[]>();
  readonly vocabulary: string[];
  private readonly rng: () => number;

  constructor(seed: number, source = PROSE) {
    this.rng = mulberry32(seed);
    const words = source.toLowerCase().replace(/[^a-z' ]+/g, ' ').split(/\s+/).filter(Boolean);
    for (let i = 0; i + 1 < words.length; i++) {
      const list = this.next.get(words[i]) ?? [];
      list.push(words[i + 1]);
      this.next.set(words[i], list);
    }
    this.vocabulary = [...new Set(words)].sort();
  }

  pick<T>(list: T[]): T {
    return list[Math.floor(this.rng() * list.length)];
  }

  /** A document of about `words` words in sentences and paragraphs. */
  document(words: number): string {
    const out: string[] = [];
    let sentence: string[] = [];
    let word = this.pick(this.vocabulary);
    for (let i = 0; i < words; i++) {
      sentence.push(sentence.length === 0 ? word[0].toUpperCase() + word.slice(1) : word);
      if (sentence.length > 6 && this.rng() < 0.12) {
        out.push(sentence.join(' ') + (this.rng() < 0.9 ? '.' : '?') + (this.rng() < 0.2 ? '\n\n' : ' '));
        sentence = [];
      }
      const followers = this.next.get(word);
      word = followers && this.rng() > 0.3 ? this.pick(followers) : this.pick(this.vocabulary);
    }
    if (sentence.length) out.push(sentence.join(' ') + '.');
    return out.join('').trim();
  }

  /** A copy with about `rate` of its words substituted, deleted or preceded by an inserted word. */
  mutate(text: string, rate: number): string {
    const tokens = text.split(' ');
    const out: string[] = [];
    for (const t of tokens) {
      const r = this.rng();
      if (r < rate / 3) out.push(this.pick(this.vocabulary));
      else if (r < (2 * rate) / 3) continue;
      else if (r < rate) out.push(this.pick(this.vocabulary), t);
      else out.push(t);
    }
    return out.join(' ');
  }

  random(): number {
    return this.rng();
  }
}

/** Word 5-gram Jaccard computed on strings (independent of the hashing under test). */
export function trueJaccard(a: string, b: string, n = 5): number {
  const grams = (t: string): Set<string> => {
    const w = t.toLowerCase().replace(/[^\p{L}\p{N}\s]+/gu, ' ').split(/\s+/).filter(Boolean);
    const s = new Set<string>();
    for (let i = 0; i + n <= w.length; i++) s.add(w.slice(i, i + n).join(' '));
    if (w.length < n && w.length > 0) s.add(w.join(' '));
    return s;
  };
  const [x, y] = [grams(a), grams(b)];
  let inter = 0;
  for (const g of x) if (y.has(g)) inter++;
  return inter / (x.size + y.size - inter || 1);
}

export interface InjectedCorpus {
  shards: Doc[][];
  /** Injected pairs: ids of the original and its copy, with their true 5-gram Jaccard. */
  pairs: { a: string; b: string; jaccard: number }[];
}

/**
 * `originals` documents of ~`words` words, each followed somewhere later by one copy edited at a
 * rate drawn uniformly from [0, maxRate]; documents are dealt round-robin into `shardCount` shards.
 */
export function injectedCorpus(seed: number, originals: number, words: number, maxRate: number, shardCount: number): InjectedCorpus {
  const gen = new ProseGenerator(seed);
  const docs: Doc[] = [];
  const pairs: InjectedCorpus['pairs'] = [];
  for (let i = 0; i < originals; i++) docs.push({ id: `orig-${i}`, text: gen.document(words), meta: {} });
  for (let i = 0; i < originals; i++) {
    const rate = gen.random() * maxRate;
    const text = gen.mutate(docs[i].text, rate);
    docs.push({ id: `copy-${i}`, text, meta: {} });
    pairs.push({ a: `orig-${i}`, b: `copy-${i}`, jaccard: trueJaccard(docs[i].text, text) });
  }
  const shards: Doc[][] = Array.from({ length: shardCount }, () => []);
  docs.forEach((d, i) => shards[i % shardCount].push(d));
  return { shards, pairs };
}

/** Common Chinese words (no spaces between words in Chinese text) for `chineseDocument`. */
const CHINESE_WORDS = [
  '我们', '今天', '学校', '学习', '中文', '老师', '朋友', '时间', '问题', '工作', '城市', '国家', '经济', '发展', '社会',
  '历史', '文化', '科学', '技术', '研究', '教育', '政府', '市场', '公司', '人民', '生活', '环境', '变化', '方法', '系统',
  '世界', '重要', '非常', '已经', '可以', '需要', '认为', '希望', '开始', '继续', '提高', '影响', '关系', '情况', '地方',
  '因为', '所以', '但是', '如果', '虽然', '而且', '然后', '还是', '一起', '这个', '那些', '自己', '大家', '每天', '现在',
  '山水', '河流', '天气', '春天', '秋天', '音乐', '电影', '书籍', '图书馆', '医院', '银行', '火车', '飞机', '汽车', '道路',
  '孩子', '父母', '家庭', '故事', '语言', '文字', '思想', '艺术', '自然', '动物', '植物', '季节', '农业', '工业', '新闻',
];

/** A Chinese document of about `chars` characters: random common words, sentences ending in "。", clauses in "，". */
export function chineseDocument(seed: number, chars: number): string {
  const rng = mulberry32(seed);
  let text = '';
  let clause = 0;
  while (text.length < chars) {
    text += CHINESE_WORDS[Math.floor(rng() * CHINESE_WORDS.length)];
    if (++clause >= 4 && rng() < 0.3) {
      text += rng() < 0.6 ? '，' : '。';
      clause = 0;
    }
  }
  return text + '。';
}
