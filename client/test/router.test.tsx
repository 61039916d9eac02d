/**
 * @jest-environment jsdom
 */
import { matchPath } from '../src/lib/router';
import { safeNext } from '../src/pages/SignIn';

describe('matchPath', () => {
  it('reads named segments and refuses other shapes', () => {
    expect(matchPath('/books/:id', '/books/abc%20d')).toEqual({ id: 'abc d' });
    expect(matchPath('/books/:id', '/books')).toBeNull();
    expect(matchPath('/staff/books/new', '/staff/books/new')).toEqual({});
    expect(matchPath('/', '/')).toEqual({});
    expect(matchPath('/account', '/admin')).toBeNull();
  });
});

describe('safeNext', () => {
  it('keeps same-site paths and refuses anything that would leave the site', () => {
    expect(safeNext('/books/1?x=2')).toBe('/books/1?x=2');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
});
