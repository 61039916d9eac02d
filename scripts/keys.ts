/**
 * `npm run keys`: fresh Ed25519 key pairs for services that run in separate processes (docker-compose),
 * printed as .env lines (single-line JWK):
 * - SHELFWISE_ROUTER_PRIVATE_KEY (router) / SHELFWISE_ROUTER_PUBLIC_KEY (every subgraph): the router's
 *   signed caller credentials, without which subgraphs answer nobody;
 * - SHELFWISE_JWT_PRIVATE_KEY (users) / SHELFWISE_JWT_PUBLIC_KEY (router): access tokens;
 * - SHELFWISE_SERVICE_PRIVATE_KEY (every subgraph that calls another's internal operations; the simple
 *   set-up gives it to all of them): service-to-service credentials.
 * The embedded default (`npm start`) needs none of them.
 */
import { generateKeyPairSync } from 'node:crypto';

for (const name of ['ROUTER', 'JWT', 'SERVICE']) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  console.log(`SHELFWISE_${name}_PRIVATE_KEY='${JSON.stringify(privateKey.export({ format: 'jwk' }))}'`);
  console.log(`SHELFWISE_${name}_PUBLIC_KEY='${JSON.stringify(publicKey.export({ format: 'jwk' }))}'`);
}
