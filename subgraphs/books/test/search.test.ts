import { describeSearch } from './searchSuite.js';

describeSearch('catalogue search (PGlite)', describe, () => ({}));
