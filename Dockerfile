# One image for the gateway and the three subgraphs; docker-compose.yml picks the command.
FROM node:20-bookworm-slim

WORKDIR /app

# TypeScript runs at run time through @swc-node/register (a runtime dependency),
# so production dependencies are all the image needs.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY common ./common
COPY subgraphs ./subgraphs
COPY gateway ./gateway
COPY scripts ./scripts
COPY schema ./schema

# MEMSY_DATA_DIR defaults to .memsy under the working directory; the app runs as `node`.
RUN mkdir -p /app/.memsy && chown node:node /app/.memsy

ENV NODE_ENV=production
USER node

CMD ["npm", "run", "start:gateway"]
