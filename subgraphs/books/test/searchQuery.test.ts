import { POPULARITY_TIERS, RANK_WINDOW, startTier, termTsqueries, yearCover } from '../src/data/BookSearch.js';

describe('search query building (pure)', () => {
  it('the last word is its completions when there are few, a tsquery prefix when there are too many', () => {
    expect(termTsqueries([{ word: 'tolki', prefix: true, alternatives: [], completions: ['tolkien'] }])).toEqual([`('tolki' | 'tolkien')`]);
    expect(termTsqueries([{ word: 'and', prefix: true, alternatives: [], completions: ['and'] }])).toEqual([`'and'`]);
    expect(termTsqueries([{ word: 't', prefix: true, alternatives: [], completions: null }])).toEqual([`'t':*`]);
    expect(termTsqueries([{ word: "o'neil", prefix: false, alternatives: [] }])).toEqual([`'o''neil'`]);
    expect(termTsqueries([{ word: 'pottr', prefix: false, alternatives: ['potter', 'pottery'] }])).toEqual([`('potter' | 'pottery')`]);
  });

  it('covers a closed year range with the fewest year, decade and century markers', () => {
    expect(yearCover(1954, 1954)).toEqual(['Y:1954']);
    expect(yearCover(1990, 1999)).toEqual(['D:199']);
    expect(yearCover(1900, 2011)).toEqual(['C:19', 'D:200', 'Y:2010', 'Y:2011']);
    expect(yearCover(1988, 2003)).toEqual(['Y:1988', 'Y:1989', 'D:199', 'Y:2000', 'Y:2001', 'Y:2002', 'Y:2003']);
    expect(yearCover(2000, 1990)).toEqual([]);
  });

  it('leaves open, out-of-range or finely split ranges to the row check', () => {
    expect(yearCover(1990, null)).toBeNull();
    expect(yearCover(undefined, 1990)).toBeNull();
    expect(yearCover(-5, 10)).toBeNull();
    expect(yearCover(9000, 10000)).toBeNull();
    expect(yearCover(1901, 1998)).toBeNull(); // 9 years + 8 decades + 8 years: more than 16 markers
  });

  it('chooses the first popularity tier from the statistics', () => {
    const tiers = [0.0002, 0.0006, 0.0017, 0.005, 0.0174, 0.0515, 0.111, 0.319];
    const estimate = (terms: number[], markers: number[] = []) => ({ books: 1_000_000, terms, markers: [...markers, ...tiers] });
    const none = POPULARITY_TIERS.length;
    expect(startTier(null, 0, RANK_WINDOW)).toBe(0); // no statistics: from the top
    expect(startTier(estimate([1]), 0, RANK_WINDOW)).toBe(none); // frequent: the popularity walk
    expect(startTier(estimate([0.0005]), 0, RANK_WINDOW)).toBe(none); // 500 expected: read them all
    expect(startTier(estimate([0.0058]), 0, RANK_WINDOW)).toBe(POPULARITY_TIERS.indexOf(5000)); // 5,800 expected
    expect(startTier(estimate([0.02]), 0, RANK_WINDOW)).toBe(POPULARITY_TIERS.indexOf(9000)); // 20,000 expected
    // Filter markers multiply in: 14% × 10.7% × 7.8% ≈ 1,170 expected, read them all.
    expect(startTier(estimate([0.141], [0.107, 0.078]), 2, RANK_WINDOW)).toBe(none);
  });
});
