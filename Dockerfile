# syntax=docker/dockerfile:1
# One image for every Node service (the seven subgraphs and the router; docker-compose.yml picks the
# entry point with `command`), plus the nginx image that serves the built web app (target `client`).

# --- build: dependencies, generated Prisma clients, the web app -----------------------------------
FROM node:20-slim AS build
WORKDIR /app
ENV APOLLO_TELEMETRY_DISABLED=true \
    CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
# The whole tree first: `npm ci` needs every workspace's package.json, and its postinstall
# (scripts/prisma-generate.mjs) needs prisma/<subgraph>/schema.prisma to generate each subgraph's client.
COPY . .
RUN npm ci
RUN npm run build -w @shelfwise/client

# --- client: nginx serving client/dist and proxying /graphql (HTTP and WebSocket) to the router ------
FROM nginx:1.27-alpine AS client
COPY deploy/nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=build /app/client/dist /usr/share/nginx/html
EXPOSE 8080

# --- app: the Node services (last, so a plain `docker build .` gives this image) --------------------
FROM build AS app
# Production: graphql-js without its development checks, introspection off unless asked for (operations.md).
ENV APOLLO_TELEMETRY_DISABLED=true \
    NODE_ENV=production
USER node
EXPOSE 4000-4007
# node itself, not npx: npm does not pass SIGTERM on (see docker-compose.yml).
CMD ["node", "--import", "tsx", "router/src/index.ts"]
