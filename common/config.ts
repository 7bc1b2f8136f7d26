import path from 'node:path';
import { z } from 'zod';

/**
 * The one reader of `process.env`. Every process calls {@link loadConfig} once at boot and
 * passes the result down; nothing else looks at the environment. `.env.example` lists every
 * variable with its default.
 */

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(z.url().optional())
  .optional();
const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: port.default(4000),
  MEMSY_DATA_DIR: z.string().default('.memsy'),
  DATABASE_URL: optionalUrl,
  PGLITE_PORT: port.default(0),
  PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^\d+(kB|MB|GB)$/, 'must be a Postgres size such as 256MB or 1GB')
    .default('256MB'),
  MEMSY_ADMIN_KEY: optionalString.pipe(
    z
      .string()
      .regex(
        /^msy_[A-Za-z0-9_-]{20,}$/,
        'must look like msy_ followed by at least 20 letters, digits, _ or -',
      )
      .optional(),
  ),
  MEMSY_INTERNAL_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  HIERARCHY_PORT: port.default(4001),
  MEMORY_PORT: port.default(4002),
  ENTITY_PORT: port.default(4003),
  HIERARCHY_URL: optionalUrl,
  MEMORY_URL: optionalUrl,
  ENTITY_URL: optionalUrl,
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).default(2000),
  LLM_BASE_URL: optionalUrl,
  LLM_API_KEY: optionalString,
  LLM_MODEL: optionalString,
  LLM_TIMEOUT_MS: z.coerce.number().int().min(1).default(30_000),
  LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  EMBEDDINGS_BASE_URL: optionalUrl,
  EMBEDDINGS_API_KEY: optionalString,
  EMBEDDINGS_MODEL: optionalString,
  EMBEDDINGS_DIMENSIONS: z.coerce.number().int().min(1).max(16_000).optional(),
  NEO4J_URL: optionalUrl,
  NEO4J_USER: z.string().default('neo4j'),
  NEO4J_PASSWORD: optionalString,
  ENTITY_MATCH_THRESHOLD: z.coerce.number().min(0).max(1).default(0.9),
  CONTEXT_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(1800),
  CONTEXT_HNSW_MIN_ROWS: z.coerce.number().int().min(1).default(10_000),
  MEMORY_WORKER: z.enum(['on', 'off']).default('on'),
  MEMORY_WORKER_BATCH: z.coerce.number().int().min(1).max(256).default(32),
  MEMORY_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  MEMORY_WORKER_POLL_MS: z.coerce.number().int().min(10).default(250),
  MEMORY_JOB_LEASE_SECONDS: z.coerce.number().int().min(1).default(120),
  PROMOTION_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(0),
  PROMOTION_MIN_ACTOR_SUPPORT: z.coerce.number().int().min(2).max(1000).default(3),
  PROMOTION_MIN_GROUP_SUPPORT: z.coerce.number().int().min(2).max(1000).default(3),
  PROMOTION_CLUSTER_SIMILARITY: z.coerce.number().min(0.5).max(0.99).default(0.7),
  PROMOTION_MIN_SCORE: z.coerce.number().min(0).max(1).default(0.3),
});

export type SubgraphName = 'hierarchy' | 'memory' | 'entity';

export interface LlmConfig {
  /** OpenAI-compatible base URL, e.g. `http://localhost:11434/v1` for Ollama. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Per-request timeout. @default 30000 */
  timeoutMs: number;
  /** Retries on timeout, 429 and 5xx, with exponential backoff. @default 2 */
  maxRetries: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  /** Interface every server binds to. @default 127.0.0.1 */
  host: string;
  /** Gateway port. @default 4000 */
  port: number;
  /** Where the embedded Postgres keeps its files and the bootstrapped admin key. @default .memsy */
  dataDir: string;
  /** A Postgres server with pgvector; when unset an embedded PGlite is started. */
  databaseUrl?: string;
  /** Port of the embedded Postgres socket (0 picks a free one). @default 0 */
  embeddedPostgresPort: number;
  /**
   * `shared_buffers` of the embedded Postgres: pages outside it are read back through the WASM
   * file system, which is slow, so size it to the working set. @default 256MB
   */
  embeddedPostgresSharedBuffers: string;
  /** Platform admin key to register at start; when unset one is generated once and kept in dataDir. */
  adminKey?: string;
  /** HMAC secret the gateway signs identities with. Generated per process when everything runs in one. */
  internalSecret?: string;
  subgraphs: Record<SubgraphName, { port: number; url?: string }>;
  /** How long the gateway trusts a verified API key before asking again. @default 2000 */
  authCacheTtlMs: number;
  /** Chat model for prompts and extraction; deterministic templates are used when unset. */
  llm?: LlmConfig;
  /** Remote embeddings endpoint; the embedded sentence encoder is used when unset. */
  embeddings?: EmbeddingsEndpointConfig;
  memoryWorker: MemoryWorkerConfig;
  /** The graph store of the entity subgraph: Neo4j when set, else tables in Postgres. */
  neo4j?: { url: string; user: string; password: string };
  /** Cosine similarity of names above which a mention resolves to an existing entity. @default 0.9 */
  entityMatchThreshold: number;
  /** Lifetime of cached org-context retrieval results (0 disables the cache). @default 1800 */
  contextCacheTtlSeconds: number;
  /**
   * ORG (and WORLD) scopes with at least this many current memories are searched through the
   * HNSW index; smaller scopes by an exact scan (exact, and about as fast below it: BENCHMARKS.md). @default 10000
   */
  contextHnswMinRows: number;
  /** Memory promotion up the hierarchy: the schedule and the defaults of the per-org thresholds. */
  promotion: PromotionConfig;
}

/** Defaults of the per-org promotion thresholds (an org admin may override them) and the schedule. */
export interface PromotionConfig {
  /** Seconds between automatic promotion runs of every org (0: never, only on request). @default 0 */
  intervalSeconds: number;
  /** Distinct actors of a role (or team) that must share a memory for it to go to the role (team). @default 3 */
  minActorSupport: number;
  /** Distinct roles and teams that must share a memory for it to go to the org. @default 3 */
  minGroupSupport: number;
  /** Cosine similarity (average linkage) at which memories count as the same statement. @default 0.7 */
  clusterSimilarity: number;
  /** Judge score (0–1) a cluster needs to be promoted. @default 0.3 */
  minScore: number;
}

export interface EmbeddingsEndpointConfig {
  /** OpenAI-compatible base URL (its `/embeddings` is called). */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Length of the vectors the model returns. */
  dimensions: number;
  timeoutMs: number;
  maxRetries: number;
}

export interface MemoryWorkerConfig {
  /** Run ingestion workers inside the memory subgraph process. @default true */
  enabled: boolean;
  /** Items claimed per batch. @default 32 */
  batchSize: number;
  /**
   * Batches in flight per process. Two let one batch's extraction and database writes overlap
   * the next batch's embedding (which runs in its own thread). @default 2
   */
  concurrency: number;
  /** Idle poll interval. @default 250 */
  pollMs: number;
  /** A claimed item not finished within this many seconds is handed to another worker. @default 120 */
  leaseSeconds: number;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.LLM_BASE_URL && !e.LLM_MODEL) {
    throw new ConfigError('Invalid configuration:\n  LLM_MODEL: required when LLM_BASE_URL is set');
  }
  if (e.EMBEDDINGS_BASE_URL && (!e.EMBEDDINGS_MODEL || !e.EMBEDDINGS_DIMENSIONS)) {
    throw new ConfigError(
      'Invalid configuration:\n  EMBEDDINGS_MODEL and EMBEDDINGS_DIMENSIONS: required when EMBEDDINGS_BASE_URL is set',
    );
  }
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    dataDir: path.resolve(e.MEMSY_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    embeddedPostgresPort: e.PGLITE_PORT,
    embeddedPostgresSharedBuffers: e.PGLITE_SHARED_BUFFERS,
    adminKey: e.MEMSY_ADMIN_KEY,
    internalSecret: e.MEMSY_INTERNAL_SECRET,
    subgraphs: {
      hierarchy: { port: e.HIERARCHY_PORT, url: e.HIERARCHY_URL },
      memory: { port: e.MEMORY_PORT, url: e.MEMORY_URL },
      entity: { port: e.ENTITY_PORT, url: e.ENTITY_URL },
    },
    authCacheTtlMs: e.AUTH_CACHE_TTL_MS,
    llm:
      e.LLM_BASE_URL && e.LLM_MODEL
        ? {
            baseUrl: e.LLM_BASE_URL,
            apiKey: e.LLM_API_KEY,
            model: e.LLM_MODEL,
            timeoutMs: e.LLM_TIMEOUT_MS,
            maxRetries: e.LLM_MAX_RETRIES,
          }
        : undefined,
    embeddings:
      e.EMBEDDINGS_BASE_URL && e.EMBEDDINGS_MODEL && e.EMBEDDINGS_DIMENSIONS
        ? {
            baseUrl: e.EMBEDDINGS_BASE_URL,
            apiKey: e.EMBEDDINGS_API_KEY,
            model: e.EMBEDDINGS_MODEL,
            dimensions: e.EMBEDDINGS_DIMENSIONS,
            timeoutMs: e.LLM_TIMEOUT_MS,
            maxRetries: e.LLM_MAX_RETRIES,
          }
        : undefined,
    neo4j: e.NEO4J_URL
      ? { url: e.NEO4J_URL, user: e.NEO4J_USER, password: e.NEO4J_PASSWORD ?? '' }
      : undefined,
    entityMatchThreshold: e.ENTITY_MATCH_THRESHOLD,
    contextCacheTtlSeconds: e.CONTEXT_CACHE_TTL_SECONDS,
    contextHnswMinRows: e.CONTEXT_HNSW_MIN_ROWS,
    promotion: {
      intervalSeconds: e.PROMOTION_INTERVAL_SECONDS,
      minActorSupport: e.PROMOTION_MIN_ACTOR_SUPPORT,
      minGroupSupport: e.PROMOTION_MIN_GROUP_SUPPORT,
      clusterSimilarity: e.PROMOTION_CLUSTER_SIMILARITY,
      minScore: e.PROMOTION_MIN_SCORE,
    },
    memoryWorker: {
      enabled: e.MEMORY_WORKER === 'on',
      batchSize: e.MEMORY_WORKER_BATCH,
      concurrency: e.MEMORY_WORKER_CONCURRENCY,
      pollMs: e.MEMORY_WORKER_POLL_MS,
      leaseSeconds: e.MEMORY_JOB_LEASE_SECONDS,
    },
  };
}
