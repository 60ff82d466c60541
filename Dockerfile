# Build: bundle the explorer, compile TypeScript, then keep production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The prepare script (the explorer bundle) needs sources not copied yet; it runs below.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY explorer ./explorer
RUN npm run build:explorer && npm run build && npm prune --omit=dev

# Run: compiled JavaScript, the SDL and the migrations; no compiler, no dev tools.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Served only when EXPLORER=on (it is off in production by default).
COPY --from=build /app/explorer/dist ./explorer/dist
COPY package.json ./
COPY schema ./schema
COPY drizzle ./drizzle
COPY persisted-queries ./persisted-queries
USER node
EXPOSE 4000
CMD ["node", "dist/main.js"]
