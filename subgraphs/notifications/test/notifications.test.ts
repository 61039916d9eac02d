import { describeNotificationsSubgraph } from './suite.js';

describeNotificationsSubgraph('notifications subgraph (PGlite)', describe, () => ({}));
