import { runSubgraph } from '@shelfwise/kit';
import { start } from './server.js';

await runSubgraph('notifications', start);
