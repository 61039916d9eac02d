import { describeBooksSubgraph } from './suite.js';

describeBooksSubgraph('books subgraph (PGlite)', describe, () => ({}));
