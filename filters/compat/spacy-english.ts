/**
 * The word and sentence splitting of datatrove's default English tokenizer: spaCy's blank English
 * pipeline (`spacy.blank("en")`) with its rule-based sentencizer, as datatrove 0.10.0 calls it.
 * Reimplemented from spaCy's documented tokenizer algorithm (v3.5: split on white space, then
 * peel prefixes and suffixes, keep special cases and URLs whole, split infixes) and its English
 * rules; no Python. Punctuation marks are tokens of their own, contractions split ("do|n't").
 * Known simplifications: spaCy's letter classes are read as Unicode letter categories, its symbol
 * class as \p{So}, and the second pass that re-merges special cases split by affixes is left out.
 */

/** Python's str.isspace() characters. */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPACE_RE = new RegExp(`[${PY_SPACE}]`, 'u');
const PY_STRIP_RE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');

/** Python's str.strip(). */
export function pyStrip(s: string): string {
  return s.replace(PY_STRIP_RE, '');
}

/** Python's str.split() with no separator. */
export function pySplit(s: string): string[] {
  return pyStrip(s).split(new RegExp(`[${PY_SPACE}]+`, 'u')).filter((w) => w !== '');
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const escClass = (s: string) => s.replace(/[\\\]\[^-]/g, '\\$&');
const PUNCT = ['…', '……', ',', ':', ';', '!', '?', '¿', '؟', '¡', '(', ')', '[', ']', '{', '}', '<', '>', '_', '#', '*', '&', '。', '？', '！', '，', '、', '；', '：', '～', '·', '।', '،', '۔', '؛', '٪'];
const QUOTES = ["'", '"', '”', '“', '`', '‘', '´', '’', '‚', ',', '„', '»', '«', '「', '」', '『', '』', '（', '）', '〔', '〕', '【', '】', '《', '》', '〈', '〉', '〈', '〉', '⟦', '⟧'];
const CURRENCY = ['$', '£', '€', '¥', '฿', 'US$', 'C$', 'A$', '₽', '﷼', '₴', '₠', '₡', '₢', '₣', '₤', '₥', '₦', '₧', '₨', '₩', '₪', '₫', '€', '₭', '₮', '₯', '₰', '₱', '₲', '₳', '₴', '₵', '₶', '₷', '₸', '₹', '₺', '₻', '₼', '₽', '₾', '₿'];
const UNITS = 'km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft kg g mg µg t lb oz m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb TB T G M K % км км² км³ м м² м³ дм дм² дм³ см см² см³ мм мм² мм³ нм кг г мг м/с км/ч кПа Па мбар Кб КБ кб Мб МБ мб Гб ГБ гб Тб ТБ тбكم كم² كم³ م م² م³ سم سم² سم³ مم مم² مم³ كم غرام جرام جم كغ ملغ كوب اكواب'.split(' ');
const HYPHENS = ['-', '–', '—', '--', '---', '——', '~'];
const ELLIPSES = ['\\.\\.+', '…'];
const ICONS = '[\\p{So}]';
const A = '\\p{L}';
const AL = '\\p{Ll}\\p{Lo}';
const AU = '\\p{Lu}\\p{Lo}';
const Q = escClass(QUOTES.join(''));
const alt = (xs: string[]) => xs.map(esc).join('|');

const PREFIX_PARTS = ['§', '%', '=', '—', '–'].map(esc).concat(['\\+(?![0-9])'], PUNCT.map(esc), ELLIPSES, QUOTES.map(esc), CURRENCY.map(esc), [ICONS]);
const PREFIX_RE = new RegExp(PREFIX_PARTS.map((p) => `^(?:${p})`).join('|'), 'u');

// The class of characters after which a period is split off: digits, lower-case letters, %²-+,
// the punctuation list written as an alternation (its | and the group's (?:) characters included), quotes.
const PERIOD_AFTER = `0-9${AL}%²\\-+${escClass(PUNCT.join('|'))}(?:${Q})`;
const SUFFIX_PARTS = PUNCT.map(esc).concat(ELLIPSES, QUOTES.map(esc), [ICONS], ["'s", "'S", '’s', '’S', '—', '–'].map(esc), [
  '(?<=[0-9])\\+',
  '(?<=°[FfCcKk])\\.',
  `(?<=[0-9])(?:${alt(CURRENCY)})`,
  `(?<=[0-9])(?:${alt(UNITS)})`,
  `(?<=[${PERIOD_AFTER}])\\.`,
  `(?<=[${AU}][${AU}])\\.`,
]);
const SUFFIX_RE = new RegExp(SUFFIX_PARTS.map((p) => `(?:${p})$`).join('|'), 'u');

const INFIX_RE = new RegExp(
  ELLIPSES.concat([ICONS, '(?<=[0-9])[+\\-\\*^](?=[0-9-])', `(?<=[${AL}${Q}])\\.(?=[${AU}${Q}])`, `(?<=[${A}]),(?=[${A}])`, `(?<=[${A}0-9])(?:${alt(HYPHENS)})(?=[${A}])`, `(?<=[${A}0-9])[:<>=/](?=[${A}])`]).join('|'),
  'gu',
);

const W = '[\\p{L}\\p{N}_]';
const URL_RE = new RegExp(
  '^' +
    `(?:(?:(?:${W}|[+\\-.]){2,})://)?` +
    '(?:\\S+(?::\\S*)?@)?' +
    '(?:' +
    '(?!(?:10|127)(?:\\.\\p{Nd}{1,3}){3})' +
    '(?!(?:169\\.254|192\\.168)(?:\\.\\p{Nd}{1,3}){2})' +
    '(?!172\\.(?:1[6-9]|2\\p{Nd}|3[0-1])(?:\\.\\p{Nd}{1,3}){2})' +
    '(?:[1-9]\\p{Nd}?|1\\p{Nd}\\p{Nd}|2[01]\\p{Nd}|22[0-3])' +
    '(?:\\.(?:1?\\p{Nd}{1,2}|2[0-4]\\p{Nd}|25[0-5])){2}' +
    '(?:\\.(?:[1-9]\\p{Nd}?|1\\p{Nd}\\p{Nd}|2[0-4]\\p{Nd}|25[0-4]))' +
    '|' +
    '(?:(?:[A-Za-z0-9\\u00a1-\\uffff][A-Za-z0-9\\u00a1-\\uffff_-]{0,62})?[A-Za-z0-9\\u00a1-\\uffff]\\.)+' +
    `(?:[${AL}]{2,63})` +
    ')' +
    '(?::\\p{Nd}{2,5})?' +
    '(?:[/?#]\\S*)?' +
    '$',
  'u',
);

/** spaCy's English special cases (tokenizer exceptions): a string and the tokens it becomes. */
const SPECIALS: ReadonlyMap<string, readonly string[]> = buildSpecials();

function buildSpecials(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  const one = (s: string) => m.set(s, [s]);
  const title = (s: string) => s[0]!.toUpperCase() + s.slice(1);
  const both = (w: string) => [w, title(w)];
  // Base exceptions (every language).
  for (const s of [' ', '\t', '\\t', '\n', '\\n', '—', '\u00a0', "'", '\\")', '<space>', "''", 'C++']) one(s);
  for (const c of 'abcdefghijklmnopqrstuvwxyzäöü') one(`${c}.`);
  const emoticons = ":) :-) :)) :-)) :))) :-))) (: (-: =) (= :] :-] [: [-: [= =] :o) (o: :} :-} 8) 8-) (-8 ;) ;-) (; (-; :( :-( :(( :-(( :((( :-((( ): )-: =( >:( :') :'-) :'( :'-( :/ :-/ =/ =| :| :-| ]= =[ :1 :P :-P :p :-p :O :-O :o :-o :0 :-0 :() >:o :* :-* :3 :-3 =3 :> :-> :X :-X :x :-x :D :-D ;D ;-D =D xD XD xDD XDD 8D 8-D ^_^ ^__^ ^___^ >.< >.> <.< ._. ;_; -_- -__- v.v V.V v_v V_V o_o o_O O_o O_O 0_o o_0 0_0 o.O O.o O.O o.o 0.0 o.0 0.o @_@ <3 <33 <333 </3 (^_^) (-_-) (._.) (>_<) (*_*) (¬_¬) ಠ_ಠ ಠ︵ಠ (ಠ_ಠ) ¯\\(ツ)/¯ (╯°□°）╯︵┻━┻ ><(((*>";
  for (const e of emoticons.split(' ')) one(e);
  for (const u of 'cfkCFK') m.set(`°${u}.`, ['°', u, '.']);
  // English: pronoun and verb contractions, with and without the apostrophe.
  const add = (o: string, parts: string[]) => m.set(o + parts.join(''), [o, ...parts]);
  for (const o of both('i')) {
    add(o, ["'m"]), add(o, ['m']), add(o, ["'m", 'a']), add(o, ['m', 'a']);
  }
  const willWould = (o: string) => {
    add(o, ["'ll"]), add(o, ['ll']), add(o, ["'ll", "'ve"]), add(o, ['ll', 've']);
    add(o, ["'d"]), add(o, ['d']), add(o, ["'d", "'ve"]), add(o, ['d', 've']);
  };
  for (const p of ['i', 'you', 'he', 'she', 'it', 'we', 'they']) for (const o of both(p)) willWould(o);
  for (const p of ['i', 'you', 'we', 'they']) for (const o of both(p)) add(o, ["'ve"]), add(o, ['ve']);
  for (const p of ['you', 'we', 'they']) for (const o of both(p)) add(o, ["'re"]), add(o, ['re']);
  for (const p of ['he', 'she', 'it']) for (const o of both(p)) add(o, ["'s"]), add(o, ['s']);
  for (const w of ['who', 'what', 'when', 'where', 'why', 'how', 'there', 'that', 'this', 'these', 'those']) {
    const plural = w === 'these' || w === 'those';
    const singular = w === 'that' || w === 'this';
    for (const o of both(w)) {
      if (!plural) add(o, ["'s"]);
      add(o, ["'ll"]), add(o, ['ll']), add(o, ["'ll", "'ve"]), add(o, ['ll', 've']);
      if (!singular) add(o, ["'re"]), add(o, ['re']), add(o, ["'ve"]), add(o, ['ve']);
      add(o, ["'d"]), add(o, ['d']), add(o, ["'d", "'ve"]), add(o, ['d', 've']);
    }
  }
  for (const v of ['ca', 'could', 'do', 'does', 'did', 'had', 'may', 'might', 'must', 'need', 'ought', 'sha', 'should', 'wo', 'would']) {
    for (const o of both(v)) add(o, ["n't"]), add(o, ['nt']), add(o, ["n't", "'ve"]), add(o, ['nt', 've']);
  }
  for (const v of ['could', 'might', 'must', 'should', 'would']) for (const o of both(v)) add(o, ["'ve"]), add(o, ['ve']);
  for (const v of ['ai', 'are', 'is', 'was', 'were', 'have', 'has', 'dare']) for (const o of both(v)) add(o, ["n't"]), add(o, ['nt']);
  for (const w of ['doin', 'goin', 'nothin', 'nuthin', 'ol', 'somethin']) for (const o of both(w)) one(o), one(`${o}'`);
  for (const w of ['em', 'll', 'nuff']) one(w), one(`'${w}`);
  for (let h = 1; h <= 12; h++) for (const p of ['a.m.', 'am', 'p.m.', 'pm']) m.set(`${h}${p}`, [`${h}`, p]);
  const other: Record<string, string[]> = {
    "y'all": ["y'", 'all'], yall: ['y', 'all'], "how'd'y": ['how', "'d", "'y"], "How'd'y": ['How', "'d", "'y"],
    "not've": ['not', "'ve"], notve: ['not', 've'], "Not've": ['Not', "'ve"], Notve: ['Not', 've'],
    cannot: ['can', 'not'], Cannot: ['Can', 'not'], gonna: ['gon', 'na'], Gonna: ['Gon', 'na'],
    gotta: ['got', 'ta'], Gotta: ['Got', 'ta'], "let's": ['let', "'s"], "Let's": ['Let', "'s"],
    "c'mon": ["c'm", 'on'], "C'mon": ["C'm", 'on'],
  };
  for (const [k, v] of Object.entries(other)) m.set(k, v);
  const single = "'S 's ‘S ‘s and/or w/o 're 'Cause 'cause 'cos 'Cos 'coz 'Coz 'cuz 'Cuz 'bout ma'am Ma'am o'clock O'clock lovin' Lovin' lovin Lovin havin' Havin' havin Havin doin' Doin' doin Doin goin' Goin' goin Goin Mt. Ak. Ala. Apr. Ariz. Ark. Aug. Calif. Colo. Conn. Dec. Del. Feb. Fla. Ga. Ia. Id. Ill. Ind. Jan. Jul. Jun. Kan. Kans. Ky. La. Mar. Mass. Mich. Minn. Miss. N.C. N.D. N.H. N.J. N.M. N.Y. Neb. Nebr. Nev. Nov. Oct. Okla. Ore. Pa. S.C. Sep. Sept. Tenn. Va. Wash. Wis. 'd a.m. Adm. Bros. co. Co. Corp. D.C. Dr. e.g. E.g. E.G. Gen. Gov. i.e. I.e. I.E. Inc. Jr. Ltd. Md. Messrs. Mo. Mont. Mr. Mrs. Ms. p.m. Ph.D. Prof. Rep. Rev. Sen. St. vs. v.s.";
  for (const s of single.split(' ')) one(s);
  for (const s of ['Ill', 'ill', 'Its', 'its', 'Hell', 'hell', 'Shell', 'shell', 'Shed', 'shed', 'were', 'Were', 'Well', 'well', 'Whore', 'whore']) m.delete(s);
  return m;
}

function prefixLength(s: string): number {
  const m = PREFIX_RE.exec(s);
  return m ? m[0].length : 0;
}

function suffixLength(s: string): number {
  const m = SUFFIX_RE.exec(s);
  return m ? m[0].length : 0;
}

/** One white-space-free span: affixes peeled, special cases and URLs kept, infixes split. */
function tokenizeSpan(span: string, out: string[]): void {
  const special = SPECIALS.get(span);
  if (special) {
    out.push(...special);
    return;
  }
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  let s = span;
  let lastSize = -1;
  while (s !== '' && s.length !== lastSize) {
    if (SPECIALS.has(s)) break;
    lastSize = s.length;
    const pre = prefixLength(s);
    const minusPre = s.slice(pre);
    if (pre !== 0 && minusPre !== '' && SPECIALS.has(minusPre)) {
      prefixes.push(s.slice(0, pre));
      s = minusPre;
      break;
    }
    const suf = suffixLength(s.slice(pre));
    const minusSuf = s.slice(0, s.length - suf);
    if (suf !== 0 && minusSuf !== '' && SPECIALS.has(minusSuf)) {
      suffixes.push(s.slice(s.length - suf));
      s = minusSuf;
      break;
    }
    if (pre && suf && pre + suf <= s.length) {
      prefixes.push(s.slice(0, pre));
      suffixes.push(s.slice(s.length - suf));
      s = s.slice(pre, s.length - suf);
    } else if (pre) {
      prefixes.push(s.slice(0, pre));
      s = minusPre;
    } else if (suf) {
      suffixes.push(s.slice(s.length - suf));
      s = minusSuf;
    }
  }
  out.push(...prefixes);
  if (s !== '') {
    const sp = SPECIALS.get(s);
    if (sp) out.push(...sp);
    else if (URL_RE.test(s)) out.push(s);
    else {
      let start = 0;
      for (const m of s.matchAll(INFIX_RE)) {
        const a = m.index;
        const b = a + m[0].length;
        if (a === 0) continue;
        if (a !== start) out.push(s.slice(start, a));
        if (a !== b) out.push(s.slice(a, b));
        start = b;
      }
      if (start < s.length) out.push(s.slice(start));
    }
  }
  for (let i = suffixes.length - 1; i >= 0; i--) out.push(suffixes[i]!);
}

/**
 * Every token spaCy makes of the text, white-space tokens included: text splits into runs of
 * white space and of other characters; a white-space run that starts with one space loses that
 * space (it belongs to the previous token), the rest of the run is a token.
 */
export function spacyTokens(text: string): string[] {
  const out: string[] = [];
  if (text === '') return out;
  const chars = Array.from(text);
  let inWs = PY_SPACE_RE.test(chars[0]!);
  let start = 0;
  let pos = 0;
  const flush = (span: string) => {
    if (PY_SPACE_RE.test(span[0]!)) {
      const sp = SPECIALS.get(span);
      out.push(...(sp ?? [span]));
    } else tokenizeSpan(span, out);
  };
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const isWs = PY_SPACE_RE.test(c);
    if (isWs !== inWs) {
      if (start < pos) flush(text.slice(start, pos));
      start = c === ' ' ? pos + 1 : pos;
      inWs = !inWs;
    }
    pos += c.length;
  }
  if (start < pos) flush(text.slice(start));
  return out;
}

/** datatrove's `split_into_words` for English: spaCy's tokens, stripped, empty ones dropped. */
export function spacyWords(text: string): string[] {
  const out: string[] = [];
  for (const t of spacyTokens(text)) {
    const s = pyStrip(t);
    if (s !== '') out.push(s);
  }
  return out;
}

const SENT_PUNCT = new Set(
  Array.from('!.?։؟۔܀܁܂߹।॥၊။።፧፨᙮᜵᜶᠃᠉᥄᥅᪨᪩᪪᪫᭚᭛᭞᭟᰻᰼᱾᱿‼‽⁇⁈⁉⸮⸼꓿꘎꘏꛳꛷꡶꡷꣎꣏꤯꧈꧉꩝꩞꩟꫰꫱꯫﹒﹖﹗！．？𐩖𐩗𑁇𑁈𑂾𑂿𑃀𑃁𑅁𑅂𑅃𑇅𑇆𑇍𑇞𑇟𑈸𑈹𑈻𑈼𑊩𑑋𑑌𑗂𑗃𑗉𑗊𑗋𑗌𑗍𑗎𑗏𑗐𑗑𑗒𑗓𑗔𑗕𑗖𑗗𑙁𑙂𑜼𑜽𑜾𑩂𑩃𑪛𑪜𑱁𑱂𖩮𖩯𖫵𖬷𖬸𖭄𛲟𝪈｡。'),
);
const ALL_PUNCT = /^\p{P}+$/u;

/**
 * The number of sentences spaCy's sentencizer finds (its default end characters); a new
 * sentence starts at the first token after an end character that is neither punctuation nor an
 * end character. As datatrove's `split_into_sentences`, a text without tokens is one sentence.
 */
export function spacySentenceCount(text: string): number {
  const tokens = spacyTokens(text);
  if (tokens.length === 0) return 1;
  let n = 1;
  let seenEnd = false;
  for (const t of tokens) {
    const isEnd = SENT_PUNCT.has(t);
    if (seenEnd && !isEnd && !ALL_PUNCT.test(t)) {
      n++;
      seenEnd = false;
    } else if (isEnd) seenEnd = true;
  }
  return n;
}
