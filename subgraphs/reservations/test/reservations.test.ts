import { describeReservationsSubgraph } from './suite.js';

// Embedded PGlite, in memory: a fresh database for this file.
describeReservationsSubgraph('reservations subgraph (PGlite)', describe, () => ({}));
