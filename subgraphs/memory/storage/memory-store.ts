import type { EntityMention, MemoryCategory } from '../extraction/types';
import type { WorkPayload } from '../queue/job-queue';

/**
 * Storage port of the memory subgraph: events, document versions, memories with their
 * vectors and mentions, and ingestion jobs. The Postgres adapter (postgres-memory-store.ts)
 * runs on a server or the embedded PGlite; the work queue is a separate port (queue/).
 */

export type ScopeLevel = 'ACTOR' | 'ROLE' | 'TEAM' | 'ORG' | 'WORLD';
export type JobStatus = 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED';
export type Priority = 'REALTIME' | 'BOOTSTRAP';
export type EventKind = 'USER_MESSAGE' | 'ASSISTANT_MESSAGE' | 'TOOL_RESULT' | 'NOTE';

export interface Scope {
  level: ScopeLevel;
  id: string;
}

export interface StoredEvent {
  orgId: string;
  eventId: string;
  actorId: string;
  sessionId: string;
  kind: EventKind;
  content: string;
  roleId: string | null;
  teamId: string | null;
  occurredAt: Date;
  metadata: Record<string, unknown>;
}

export interface DocumentVersion {
  orgId: string;
  documentId: string;
  version: number;
  scope: Scope;
  content: string;
  contentHash: string;
  metadata: Record<string, unknown>;
}

export interface Provenance {
  eventIds: string[];
  documentId: string | null;
  documentVersion: number | null;
  chunkIndex: number | null;
  sourceMemoryIds: string[];
}

export interface Memory {
  id: string;
  orgId: string;
  scope: Scope;
  /** The actor whose events produced it (ACTOR scope), for forgetting. */
  actorId: string | null;
  content: string;
  category: MemoryCategory;
  embeddingModel: string | null;
  provenance: Provenance;
  validFrom: Date;
  validTo: Date | null;
  supersededBy: string | null;
  expiresAt: Date | null;
  createdAt: Date;
  metadata: Record<string, unknown>;
}

/** A memory ready to be written by the organize/store stages. */
export interface NewMemory {
  orgId: string;
  scope: Scope;
  actorId: string | null;
  content: string;
  contentHash: string;
  category: MemoryCategory;
  embedding: Float32Array | null;
  embeddingModel: string | null;
  provenance: Provenance;
  validFrom: Date;
  expiresAt: Date | null;
  metadata: Record<string, unknown>;
  mentions: EntityMention[];
}

export interface Job {
  jobId: string;
  orgId: string;
  kind: 'INGEST_EVENTS' | 'INGEST_DOCUMENTS' | 'PROMOTE_MEMORIES';
  priority: Priority;
  status: JobStatus;
  stage: string | null;
  processed: number;
  failed: number;
  total: number;
  errors: string[];
  message: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

export interface MemoryFilter {
  orgId: string;
  level?: ScopeLevel;
  scopeId?: string;
  actorId?: string;
  documentId?: string;
  /** Also list closed (superseded or replaced) memories. @default false */
  includeClosed?: boolean;
}

export interface KeysetPage {
  first: number;
  after?: { createdAt: Date; id: string };
}

/** A current memory close to a vector, for dedup and supersession. */
export interface SimilarMemory {
  id: string;
  content: string;
  category: MemoryCategory;
  similarity: number;
}

/**
 * Candidates of a context query, per signal, best first, each signal's list being the best
 * `limit` of every scope searched (so the lists of a subset of the scopes are exact too), and
 * the candidate memories themselves.
 */
export interface ContextCandidates {
  /** `approximate`: found through the HNSW index of a large scope, not an exact scan. */
  vector: Array<{ id: string; similarity: number; approximate?: boolean }>;
  lexical: Array<{ id: string; rank: number }>;
  entity: Array<{ id: string; names: string[] }>;
  memories: Map<string, Memory>;
}

export interface ContextSearch {
  orgId: string;
  scopes: Scope[];
  embeddingModel: string;
  queryVector: Float32Array;
  /** `to_tsquery` text (an OR of words); empty: no lexical search. */
  lexicalQuery: string;
  /** Normalised phrases of the query, matched against entity mentions. */
  entityNames: string[];
  /** Only memories valid at this instant (and not expired). */
  asOf: Date;
  limit: number;
}

export interface ForgetCounts {
  events: number;
  memories: number;
  vectors: number;
  entityLinks: number;
}

export interface MemoryStore {
  /** Runs `work` in one transaction (or in the current one when already inside). */
  transaction<T>(work: (store: MemoryStore) => Promise<T>): Promise<T>;

  /** Inserts events, skipping ids the org already has; returns the ids actually inserted. */
  insertEvents(events: readonly StoredEvent[], jobId: string): Promise<string[]>;
  getEvents(orgId: string, eventIds: readonly string[]): Promise<StoredEvent[]>;
  /** The newest version of each document (absent ids are left out). */
  currentDocuments(orgId: string, documentIds: readonly string[]): Promise<DocumentVersion[]>;
  getDocumentVersion(orgId: string, documentId: string, version: number): Promise<DocumentVersion | null>;
  insertDocumentVersion(document: DocumentVersion): Promise<void>;
  markDocumentReplaced(orgId: string, documentId: string, beforeVersion: number, at: Date): Promise<void>;

  /**
   * Inserts a memory; a repeat of an existing current memory (same content at the same scope,
   * or the same document chunk) merges event provenance instead and reports `inserted: false`.
   */
  insertMemory(memory: NewMemory): Promise<{ id: string; inserted: boolean }>;
  addEventProvenance(memoryId: string, eventIds: readonly string[]): Promise<void>;
  /** Ends a memory's validity (append-only: it stays readable as history). */
  closeMemory(id: string, supersededBy: string | null, at: Date): Promise<void>;
  documentMemories(
    orgId: string,
    documentId: string,
    version: number,
  ): Promise<Array<{ id: string; chunkIndex: number }>>;
  /** Current, unexpired, non-document memories of one scope nearest to a vector of the same model. */
  findSimilar(
    orgId: string,
    scope: Scope,
    embeddingModel: string,
    embedding: Float32Array,
    limit: number,
  ): Promise<SimilarMemory[]>;

  /** Unexpired memories by id, current or closed; unknown ids are left out. */
  getMemories(ids: readonly string[]): Promise<Memory[]>;
  listMemories(filter: MemoryFilter, page: KeysetPage): Promise<Memory[]>;
  /** For each id, the memories it replaced (directly or transitively), oldest first. */
  history(memoryIds: readonly string[]): Promise<Map<string, Memory[]>>;
  mentions(memoryIds: readonly string[]): Promise<Map<string, EntityMention[]>>;
  deleteMemory(orgId: string, id: string): Promise<boolean>;
  /** Deletes an actor's events, memories, vectors and mentions. */
  forgetActor(orgId: string, actorId: string): Promise<ForgetCounts>;
  /** Deletes everything of an org: memories, events, documents, jobs and their queue items. */
  deleteOrg(orgId: string): Promise<void>;
  /** Deletes the memories and documents of one role or team scope (events keep their tags). */
  deleteScope(orgId: string, scope: Scope): Promise<void>;

  /** Writes a job and its queue items (in order) together. */
  insertJob(job: Job, payloads: readonly WorkPayload[]): Promise<void>;

  /**
   * Context retrieval candidates from the given scopes by vector, full text and entity
   * mentions, with their memories: one statement, each scope searched through its own index.
   */
  searchContext(search: ContextSearch): Promise<ContextCandidates>;
  /** The org's context version: bumped by any change to its ORG-scope memories (a trigger). */
  orgContextVersion(orgId: string): Promise<number>;
  /** Bumps the org's context version (explicit cache invalidation). */
  bumpOrgContextVersion(orgId: string): Promise<number>;
  /** Cosine similarity of every pair of these memories (same model), keyed `a|b` with a < b. */
  pairwiseSimilarity(ids: readonly string[]): Promise<Map<string, number>>;
  getJobs(jobIds: readonly string[]): Promise<Job[]>;
  /** Newest first. */
  listJobs(orgId: string, status: JobStatus | undefined, page: KeysetPage): Promise<Job[]>;
  ping(): Promise<void>;
}
