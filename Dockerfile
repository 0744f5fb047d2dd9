# fleetwarden on Node, as a container (Fly.io: `fly deploy` with fly.toml; any other host
# too). The Node entry runs TypeScript through tsx (a runtime dependency: the console's
# views are .tsx, which Node's own type stripping does not read). docs/deploy.md.
FROM node:22-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so a code change reuses this layer. --omit=dev: no test tooling.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY host.ts node.ts server.ts main.ts deno.json tsconfig.json ./
COPY db ./db
COPY src ./src
COPY routes ./routes
COPY views ./views

USER node
EXPOSE 8080
ENV PORT=8080
# Migrations run as Fly's release command (fly.toml) and again, idempotently, at start.
CMD ["npm", "start"]
