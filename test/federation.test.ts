import { describeFederation } from '../router/test/platformSuite.js';

// Every subgraph on its own in-memory PGlite, the router in front, all in this process.
describeFederation('the federated graph (PGlite)', describe, () => ({ defaults: { port: 0 } }));
