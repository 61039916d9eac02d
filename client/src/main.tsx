import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Client, Provider, cacheExchange, fetchExchange } from 'urql';
import { App } from './App';

const client = new Client({
  url: '/graphql',
  exchanges: [cacheExchange, fetchExchange],
  // Apollo Server's CSRF prevention accepts requests that carry this header.
  fetchOptions: { headers: { 'apollo-require-preflight': 'true' } },
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <Provider value={client}>
      <App />
    </Provider>
  </StrictMode>,
);
