/**
 * A deterministic, realistic-looking catalogue: the same seed and index always give the same book, so the
 * seed (`npm run seed`), the demo library of a fresh `npm start` and the search benchmark all draw from one
 * generator, and a test can regenerate any row. Each book depends only on (seed, index): rows can be made
 * in any order and in batches.
 *
 * Word choices are skewed (a few words, authors and genres are common, most are rare), as in a real
 * catalogue, so searches meet both very frequent and rare terms.
 */

/** One generated book: what the loader inserts. */
export interface GeneratedBook {
  /** Position in the generated sequence (0-based). */
  index: number;
  id: string;
  /** ISBN-13 with a valid check digit, unique per (seed, index). */
  isbn: string;
  title: string;
  authors: string[];
  genres: string[];
  publishedYear: number;
  /** ISO 639-1 code. */
  language: string;
  description: string;
  copies: number;
  /** Static popularity 0–10,000 (most books low, a few high). */
  popularity: number;
}

/** mulberry32: a small, fast PRNG with a 32-bit state; plenty for test data. */
function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Mixes the seed and the index into an independent PRNG state per book. */
function rowState(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

const ADJECTIVES =
  'silent hidden last lost dark golden broken secret wild burning forgotten crimson distant endless final frozen gentle glass hollow iron little long midnight northern pale quiet red restless river salt scarlet second shadowed silver small southern stolen strange summer sunken twelfth unfinished violet wandering western white winter wooden bitter blue bright brave cold cruel curious dangerous deep dreaming drowned eastern electric empty fallen fierce fragile ghostly grey hungry invisible lonely lucky marble merciful mighty narrow nameless obsidian orange patient perfect poisoned proud radiant rare reckless rusted sacred savage sleeping slow stone sweet tender thin velvet vanishing weary wicked wise yellow young'.split(
    ' ',
  );
const NOUNS =
  'house river garden city night queen king road sea storm winter summer light shadow stone fire heart kingdom island mountain forest door letter map clock mirror tower bridge song war daughter son mother father sister brother child witch wolf fox raven crow dragon ship harbor lighthouse orchard valley desert empire republic machine engine star moon sun sky cloud rain snow ice glass iron gold silver salt bone blood ash dust smoke memory dream promise secret lie truth name voice silence game hunt journey return crossing border frontier field library archive museum theatre circus carnival station train garden window wall gate key crown sword shield arrow bell candle lantern feather thread needle rose lily oak willow'.split(
    ' ',
  );
const PLACES =
  'Avalon Babylon Cairo Dublin Edinburgh Florence Granada Havana Istanbul Jaipur Kyoto Lisbon Marrakesh Naples Oslo Prague Quebec Rome Samarkand Tangier Utrecht Venice Warsaw Yorkshire Zanzibar Cornwall Provence Patagonia Siberia Tuscany Bengal Andalusia Galway Alaska Anatolia Bohemia Arcadia Atlantis Eldoria Northmarch'.split(
    ' ',
  );
const FIRST_NAMES =
  'Ada Alan Alice Amara Ana Anders Anna Arjun Astrid Beatrice Ben Camille Carlos Chen Chiara Clara Daniel David Diego Elena Eliza Emil Emma Ezra Fatima Felix Freya Gabriel Grace Hana Hannah Harry Hugo Ines Ingrid Isaac Ivan Jack James Jane Javier Jonas Julia Kai Karin Kenji Laila Lars Laura Leo Lena Liam Lina Lucia Luis Maria Marta Mateo Maya Mei Mira Nadia Nina Noah Nora Olga Omar Oscar Paolo Petra Priya Rafael Rosa Ruth Sam Sara Sofia Tariq Theo Tomas Una Vera Victor Wen Yara Yusuf Zoe'.split(
    ' ',
  );
const LAST_NAMES =
  'Abbott Adler Ahmed Alvarez Andersen Bauer Becker Bennett Berg Blake Brandt Brooks Carter Castillo Chen Costa Dahl Dawson Diaz Dubois Duarte Eriksen Evans Fischer Fontaine Garcia Gomez Greene Gruber Hale Hansen Harper Hayes Herrera Hoffmann Holm Hughes Ivanova Jensen Kato Keller Khan Kim Klein Kowalski Kruger Lambert Larsen Lindqvist Lopez Marsh Martin Meyer Moreau Morgan Murphy Nakamura Novak Nyberg Okafor Olsen Ortega Park Patel Pereira Perez Petrov Quinn Reyes Richter Rossi Russo Sanchez Santos Sato Schmidt Schneider Silva Sorensen Stone Sullivan Takahashi Tanaka Torres Vance Varga Vogel Wagner Walsh Weber Wolff Yamamoto Young Zhang Ziegler Tolkien Rowling Austen Orwell Potter'.split(
    ' ',
  );
const GENRES = [
  'Fiction',
  'Fantasy',
  'Mystery',
  'Science Fiction',
  'Romance',
  'Thriller',
  'Historical Fiction',
  'Biography',
  'History',
  'Children',
  'Young Adult',
  'Horror',
  'Science',
  'Poetry',
  'Travel',
  'Philosophy',
  'Cooking',
  'Art',
  'Business',
  'Humor',
];
const LANGUAGES: [string, number][] = [
  ['en', 55],
  ['es', 9],
  ['fr', 8],
  ['de', 7],
  ['it', 4],
  ['pt', 4],
  ['nl', 3],
  ['ja', 3],
  ['sv', 2],
  ['pl', 2],
  ['zh', 2],
  ['ru', 1],
];
const LANGUAGE_TOTAL = LANGUAGES.reduce((s, [, w]) => s + w, 0);
const VERBS = 'find escape remember forgive save outwit survive cross rebuild defend uncover betray leave follow'.split(' ');
const EVENTS =
  'the winter ends|the war begins|the river floods|the last train leaves|the king dies|the harvest fails|the letters stop|the lights go out|the wedding|the trial|the eclipse|the summer is over'.split(
    '|',
  );
const PRAISE =
  'A luminous debut|A gripping, beautifully paced novel|An unforgettable portrait of a family|A sweeping saga|A witty and tender story|A dark, atmospheric tale|A classic of its kind|An ambitious and moving book|A fast and funny adventure|A quiet masterpiece'.split(
    '|',
  );

type Rng = () => number;

/** An element with skewed odds: index `floor(n·u^k)` makes low indexes common. */
function skewed<T>(rng: Rng, list: readonly T[], k = 2.2): T {
  return list[Math.floor(list.length * rng() ** k)]!;
}
function uniform<T>(rng: Rng, list: readonly T[]): T {
  return list[Math.floor(list.length * rng())]!;
}
function capital(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
function plural(noun: string): string {
  if (/(s|sh|ch|x)$/.test(noun)) return `${noun}es`;
  if (/[^aeiou]y$/.test(noun)) return `${noun.slice(0, -1)}ies`;
  if (noun === 'wolf') return 'wolves';
  if (noun === 'child') return 'children';
  return `${noun}s`;
}

function title(rng: Rng): string {
  const adj = () => capital(skewed(rng, ADJECTIVES));
  const noun = () => capital(skewed(rng, NOUNS));
  const name = () => uniform(rng, FIRST_NAMES);
  const patterns: (() => string)[] = [
    () => `The ${adj()} ${noun()}`,
    () => `${noun()} of ${capital(plural(skewed(rng, NOUNS)))}`,
    () => `The ${noun()} of ${uniform(rng, PLACES)}`,
    () => `${adj()} ${capital(plural(skewed(rng, NOUNS)))}`,
    () => `A ${noun()} for ${name()}`,
    () => `${name()} and the ${adj()} ${noun()}`,
    () => `The Last ${noun()}`,
    () => `${noun()} in ${uniform(rng, PLACES)}`,
    () => `The ${noun()} and the ${noun()}`,
    () => `${adj()} ${noun()}`,
  ];
  let text = skewed(rng, patterns, 1.5)();
  // About one book in twelve belongs to a numbered series.
  if (rng() < 0.08) text += `: Book ${1 + Math.floor(rng() * 7)}`;
  return text;
}

function author(rng: Rng): string {
  const middle = rng() < 0.15 ? ` ${String.fromCharCode(65 + Math.floor(rng() * 26))}.` : '';
  return `${skewed(rng, FIRST_NAMES, 1.6)}${middle} ${skewed(rng, LAST_NAMES, 1.8)}`;
}

function description(rng: Rng, book: { title: string; authors: string[] }): string {
  const name = uniform(rng, FIRST_NAMES);
  const place = uniform(rng, PLACES);
  const sentences = [
    `When ${name} finds a ${skewed(rng, ADJECTIVES)} ${skewed(rng, NOUNS)} in ${place}, ${rng() < 0.5 ? 'she' : 'he'} must ${uniform(rng, VERBS)} the ${skewed(rng, NOUNS)} before ${uniform(rng, EVENTS)}.`,
    `A ${skewed(rng, ADJECTIVES)} story of ${plural(skewed(rng, NOUNS))} and ${plural(skewed(rng, NOUNS))}, set between ${place} and ${uniform(rng, PLACES)}.`,
    `${uniform(rng, PRAISE)} from ${book.authors[0]}.`,
  ];
  if (rng() < 0.5) sentences.push(`Years later, the ${skewed(rng, NOUNS)} is still ${skewed(rng, ADJECTIVES)}.`);
  return sentences.join(' ');
}

/** ISBN-13 with its check digit computed from the first twelve digits. */
export function isbn13From12(first12: string): string {
  let sum = 0;
  for (let i = 0; i < 12; i += 1) sum += Number(first12[i]) * (i % 2 === 0 ? 1 : 3);
  return `${first12}${(10 - (sum % 10)) % 10}`;
}

/** 978 + nine digits: a bijection of the index (mod 10⁹) shifted by the seed, so indexes never collide. */
function isbnFor(seed: number, index: number): string {
  const body = (index * 7 + (seed % 1_000_000) * 1_009) % 1_000_000_000;
  return isbn13From12(`978${String(body).padStart(9, '0')}`);
}

function uuidFrom(rng: Rng): string {
  const hex: string[] = [];
  for (let i = 0; i < 16; i += 1) {
    let byte = Math.floor(rng() * 256);
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 4122 variant
    hex.push(byte.toString(16).padStart(2, '0'));
  }
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The book at `index` of the catalogue generated from `seed` (both non-negative integers). */
export function generateBook(seed: number, index: number): GeneratedBook {
  const rng = mulberry32(rowState(seed, index));
  const id = uuidFrom(rng);
  const authorCount = rng() < 0.85 ? 1 : rng() < 0.8 ? 2 : 3;
  const authors = [...new Set(Array.from({ length: authorCount }, () => author(rng)))];
  const genreCount = 1 + Math.floor(rng() ** 2 * 3);
  const genres = [...new Set(Array.from({ length: genreCount }, () => skewed(rng, GENRES, 1.8)))];
  let pick = rng() * LANGUAGE_TOTAL;
  let language = 'en';
  for (const [code, weight] of LANGUAGES) {
    if (pick < weight) {
      language = code;
      break;
    }
    pick -= weight;
  }
  const book = { title: title(rng), authors };
  return {
    index,
    id,
    isbn: isbnFor(seed, index),
    ...book,
    genres,
    publishedYear: 2025 - Math.floor(175 * rng() ** 2.5),
    language,
    description: description(rng, book),
    copies: rng() < 0.08 ? 0 : 1 + Math.floor(4 * rng() ** 2),
    popularity: Math.floor(10_000 * rng() ** 6),
  };
}

/** Books `from` (inclusive) to `to` (exclusive) of the catalogue generated from `seed`. */
export function generateBooks(seed: number, from: number, to: number): GeneratedBook[] {
  const books: GeneratedBook[] = [];
  for (let i = from; i < to; i += 1) books.push(generateBook(seed, i));
  return books;
}
