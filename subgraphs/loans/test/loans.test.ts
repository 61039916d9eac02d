import { describeLoansSubgraph } from './suite.js';

// Embedded PGlite, in memory: a fresh database for this file.
describeLoansSubgraph('loans subgraph (PGlite)', describe, () => ({}));
