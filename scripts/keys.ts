/**
 * `npm run keys`: a new Ed25519 key pair for the router's caller credentials, printed as .env lines
 * (single-line JWK). Give the router SHELFWISE_ROUTER_PRIVATE_KEY and every subgraph
 * SHELFWISE_ROUTER_PUBLIC_KEY when services run in separate processes (docker-compose). The embedded
 * default (`npm start`) needs neither: everything runs in one process with a key pair made at start.
 */
import { generateKeyPairSync } from 'node:crypto';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
console.log(`SHELFWISE_ROUTER_PRIVATE_KEY='${JSON.stringify(privateKey.export({ format: 'jwk' }))}'`);
console.log(`SHELFWISE_ROUTER_PUBLIC_KEY='${JSON.stringify(publicKey.export({ format: 'jwk' }))}'`);
