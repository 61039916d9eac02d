import { describeInventory } from './inventorySuite.js';

describeInventory('books inventory operations (PGlite)', describe, () => ({}));
