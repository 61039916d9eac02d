import { defineConfig } from 'vite';

// The router serves the built app (client/dist) at http://localhost:4000/; `npm run dev -w @shelfwise/client`
// serves it with hot reload and proxies /graphql to a running router.
export default defineConfig({
  server: { proxy: { '/graphql': { target: 'http://localhost:4000', ws: true } } },
  build: { outDir: 'dist', emptyOutDir: true },
});
