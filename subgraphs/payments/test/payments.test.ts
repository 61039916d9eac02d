import { describePaymentsSubgraph } from './suite.js';

describePaymentsSubgraph('payments subgraph (PGlite)', describe, () => ({}));
