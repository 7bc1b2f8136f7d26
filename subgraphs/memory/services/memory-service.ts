import { BadUserInputError, NotFoundError, UpstreamError } from '../../../common/errors';
import type { Embedder } from '../embedding/embedder';
import type { Categorizer, Extractor, MemoryCategory } from '../extraction/types';
import type {
  ForgetCounts,
  KeysetPage,
  Memory,
  MemoryFilter,
  MemoryStore,
  NewMemory,
  Scope,
} from '../storage/memory-store';
import { contentHash } from './content';
import {
  checkContent,
  checkId,
  checkMetadata,
  documentScope,
  type IngestionService,
} from './ingestion-service';
import { MEMORY_LIMITS } from './limits';
import { Organizer } from './organizer';
import { scopeChain, type EntityLinker } from './entity-linker';
import { promptsFor, type IngestionPipeline } from './pipeline';

export interface CreateMemoryInput {
  content: string;
  actorId?: string | null;
  roleId?: string | null;
  teamId?: string | null;
  documentId?: string | null;
  metadata?: Record<string, unknown> | null;
  /** Run categorisation, entity extraction and organize (dedup, supersession). @default true */
  infer?: boolean | null;
  category?: MemoryCategory | null;
  expiresAt?: Date | null;
}

/**
 * Reading, writing one memory directly, and forgetting. Everything is scoped to an org the
 * caller was authorised for; a memory of another org is NOT_FOUND.
 */
export class MemoryService {
  private readonly organizer = new Organizer();

  constructor(
    private readonly store: MemoryStore,
    private readonly ingestion: IngestionService,
    private readonly pipeline: IngestionPipeline,
    private readonly stages: { embedder: Embedder; categorizer: Categorizer; extractor: Extractor },
    private readonly linker?: EntityLinker,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async getMemory(orgId: string, id: string): Promise<Memory> {
    const [memory] = await this.store.getMemories([id]);
    if (!memory || memory.orgId !== orgId) throw new NotFoundError(`Memory "${id}" not found`);
    return memory;
  }

  getMemories(ids: readonly string[]): Promise<Memory[]> {
    return this.store.getMemories(ids);
  }

  listMemories(filter: MemoryFilter, page: KeysetPage): Promise<Memory[]> {
    return this.store.listMemories(filter, page);
  }

  history(ids: readonly string[]) {
    return this.store.history(ids);
  }

  mentions(ids: readonly string[]) {
    return this.store.mentions(ids);
  }

  /**
   * Writes one memory now, at the most specific scope given (actor, else team, else role,
   * else the org). With `documentId` it is a one-document ingestion (versioned like
   * `ingestDocuments`) processed inline; the first chunk is returned.
   */
  async createMemory(orgId: string, input: CreateMemoryInput): Promise<Memory> {
    const content = checkContent(
      input.content,
      input.documentId ? MEMORY_LIMITS.documentChars : MEMORY_LIMITS.memoryChars,
      'content',
    );
    const metadata = checkMetadata(input.metadata, 'metadata');
    if (input.expiresAt && input.expiresAt.getTime() <= this.now().getTime()) {
      throw new BadUserInputError('expiresAt must be in the future', { field: 'expiresAt' });
    }
    const directory = await this.ingestion.requireOrg(orgId, input.actorId ? [input.actorId] : []);
    if (input.documentId) {
      if (input.actorId)
        throw new BadUserInputError('A document belongs to the org, a role or a team, not to an actor', {
          field: 'actorId',
        });
      const scope = documentScope(
        orgId,
        input.teamId
          ? { level: 'TEAM', teamId: input.teamId }
          : input.roleId
            ? { level: 'ROLE', roleId: input.roleId }
            : { level: 'ORG' },
        directory,
      );
      return this.createDocumentMemory(
        orgId,
        checkId(input.documentId, 'documentId'),
        content,
        metadata,
        scope,
      );
    }

    let scope: Scope = { level: 'ORG', id: orgId };
    if (input.roleId) {
      if (!directory.roles.has(input.roleId))
        throw new NotFoundError(`Role "${input.roleId}" not found in org "${orgId}"`);
      scope = { level: 'ROLE', id: input.roleId };
    }
    if (input.teamId) {
      if (!directory.teams.has(input.teamId))
        throw new NotFoundError(`Team "${input.teamId}" not found in org "${orgId}"`);
      scope = { level: 'TEAM', id: input.teamId };
    }
    if (input.actorId) {
      if (!directory.actors.has(input.actorId))
        throw new NotFoundError(`Actor "${input.actorId}" not found in org "${orgId}"`);
      scope = { level: 'ACTOR', id: input.actorId };
    }

    const infer = input.infer ?? true;
    let category: MemoryCategory = input.category ?? 'FACT';
    let mentions: NewMemory['mentions'] = [];
    if (infer) {
      category =
        input.category ?? this.stages.categorizer.categorize(content, { type: 'event', kind: 'NOTE' });
      const extracted = await this.stages.extractor.extract({
        text: content,
        source: { type: 'event', kind: 'NOTE' },
        prompts: promptsFor(directory, input.roleId ?? null, input.teamId ?? null),
      });
      mentions = extracted.memories.flatMap((memory) => memory.entities);
    }
    const [embedding] = await this.stages.embedder.embed([content]);
    const memory: NewMemory = {
      orgId,
      scope,
      actorId: input.actorId ?? null,
      content,
      contentHash: contentHash(content),
      category,
      embedding: embedding ?? null,
      embeddingModel: embedding ? this.stages.embedder.modelId : null,
      provenance: {
        eventIds: [],
        documentId: null,
        documentVersion: null,
        chunkIndex: null,
        sourceMemoryIds: [],
      },
      validFrom: this.now(),
      expiresAt: input.expiresAt ?? null,
      metadata: { ...metadata, source: 'createMemory', infer },
      mentions,
    };
    const entityIds =
      this.linker && mentions.length > 0
        ? ((
            await this.linker.resolve(orgId, [
              {
                key: 'memory',
                scope,
                chain: scopeChain(orgId, scope, input.roleId ?? null, input.teamId ?? null),
                mentions,
              },
            ])
          ).get('memory') ?? [])
        : [];
    const outcome = await this.store.transaction(async (tx) =>
      infer ? this.organizer.organize(tx, memory, this.now()) : { id: (await tx.insertMemory(memory)).id },
    );
    await this.linker?.link(orgId, [
      { memoryId: outcome.id, memoryScope: scope, documentId: null, entityIds },
    ]);
    return this.getMemory(orgId, outcome.id);
  }

  private async createDocumentMemory(
    orgId: string,
    documentId: string,
    content: string,
    metadata: Record<string, unknown>,
    scope: Scope,
  ): Promise<Memory> {
    const job = await this.ingestion.ingestDocuments(orgId, [{ documentId, content, metadata }], 'REALTIME', {
      level: scope.level,
      roleId: scope.level === 'ROLE' ? scope.id : null,
      teamId: scope.level === 'TEAM' ? scope.id : null,
    });
    // The job's item is processed here and now; a worker that claims it meanwhile finds the
    // chunks already written (idempotent) and only completes the job.
    const [current] = await this.store.transaction((tx) => tx.currentDocuments(orgId, [documentId]));
    if (job.total > 0) {
      const [outcome] = await this.pipeline.processInline([
        {
          itemId: 'inline',
          jobId: job.jobId,
          orgId,
          priority: 0,
          attempts: 1,
          payload: { type: 'document', documentId, version: current!.version },
        },
      ]);
      if (outcome && !outcome.ok) throw new UpstreamError(`Processing the document failed: ${outcome.error}`);
    }
    const [first] = await this.store.listMemories({ orgId, documentId }, { first: 1 });
    if (!first) throw new UpstreamError('The document produced no memory');
    return first;
  }

  async deleteMemory(orgId: string, id: string): Promise<boolean> {
    if (!(await this.store.deleteMemory(orgId, id))) throw new NotFoundError(`Memory "${id}" not found`);
    await this.linker?.unlink(orgId, [id]);
    return true;
  }

  /**
   * Deletes the actor's events, memories and vectors here, and its entity links (and private
   * entities) in the graph. `entityLinks` counts graph links when the entity subgraph is
   * wired in, else the recorded mentions.
   */
  async forgetActor(orgId: string, actorId: string): Promise<ForgetCounts> {
    const counts = await this.store.forgetActor(orgId, actorId);
    if (!this.linker) return counts;
    return { ...counts, entityLinks: await this.linker.forgetActor(orgId, actorId) };
  }
}
