import type { Embedder } from '../embedding/embedder';
import type {
  Categorizer,
  Chunker,
  EntityMention,
  Extractor,
  MemoryCategory,
  ScopePrompts,
} from '../extraction/types';
import type { ItemOutcome, JobQueue, WorkItem } from '../queue/job-queue';
import type { DocumentVersion, MemoryStore, NewMemory, StoredEvent } from '../storage/memory-store';
import { contentHash, normalizeContent } from './content';
import { Organizer } from './organizer';
import type { OrgDirectory, ScopeDirectory } from './scope-directory';

/** Pipeline stages in order, as reported on jobs (DESIGN.md section 3). */
export const STAGES = ['categorize', 'extract', 'chunk', 'embed', 'resolve', 'organize', 'store'] as const;
export type Stage = (typeof STAGES)[number];

export interface PipelineStages {
  categorizer: Categorizer;
  extractor: Extractor;
  chunker: Chunker;
  embedder: Embedder;
}

/** A memory candidate between stages: what extraction produced, before it has a vector. */
interface Candidate {
  item: WorkItem;
  content: string;
  category: MemoryCategory;
  entities: EntityMention[];
  event?: StoredEvent;
  document?: DocumentVersion;
  chunkIndex?: number;
  embedding?: Float32Array;
}

/** Called after stage changes and finished items, so subscribers see progress at once. */
export type ProgressListener = (jobIds: readonly string[]) => void;

export const MAX_ATTEMPTS = 3;

/**
 * Runs a claimed batch of work items through categorize → extract → chunk → embed →
 * resolve → organize → store. Model work (extraction, embedding) happens outside any
 * transaction; each item is then written in one short transaction together with its queue
 * outcome, so a crash either leaves the item to be claimed again or fully done.
 */
export class IngestionPipeline {
  private readonly organizer = new Organizer();

  constructor(
    private readonly store: MemoryStore,
    private readonly queue: JobQueue,
    private readonly stages: PipelineStages,
    private readonly directory: ScopeDirectory,
    private readonly onProgress: ProgressListener = () => {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Processes items claimed from the queue and records their outcomes on the queue. */
  async processBatch(items: readonly WorkItem[]): Promise<void> {
    const jobIds = [...new Set(items.map((item) => item.jobId))];
    const outcomes = await this.run(items, async (name) => {
      await this.queue.setStage(jobIds, name);
      this.onProgress(jobIds);
    });
    await this.queue.finish(outcomes, MAX_ATTEMPTS);
    this.onProgress(jobIds);
  }

  /**
   * Processes items that are not on the queue (`createMemory`), at once, through the same
   * stages; returns their outcomes instead of recording them.
   */
  processInline(items: readonly WorkItem[]): Promise<ItemOutcome[]> {
    return this.run(items, async () => {});
  }

  private async run(
    items: readonly WorkItem[],
    stage: (name: Stage) => Promise<void>,
  ): Promise<ItemOutcome[]> {
    const failures = new Map<string, string>();
    const fail = (item: WorkItem, error: unknown) => failures.set(item.itemId, describe(error));

    // Load what the items point at, and the prompts of their scopes (one lookup per org).
    await stage('categorize');
    const loaded = await this.load(items, fail);
    const directories = await this.directories(loaded, items, fail);

    const candidates: Candidate[] = [];
    const handled = new Set<string>();
    await stage('extract');
    for (const { item, event } of loaded.events) {
      try {
        const directory = directories.get(item.orgId);
        const source = { type: 'event', kind: event.kind } as const;
        const result = await this.stages.extractor.extract({
          text: event.content,
          source,
          occurredAt: event.occurredAt,
          prompts: promptsFor(directory, event.roleId, event.teamId),
        });
        for (const memory of result.memories) {
          candidates.push({
            item,
            event,
            content: normalizeContent(memory.content),
            category: memory.category,
            entities: memory.entities,
          });
        }
        handled.add(item.itemId);
      } catch (error) {
        fail(item, error);
      }
    }
    if (loaded.documents.length > 0) await stage('chunk');
    for (const { item, document } of loaded.documents) {
      try {
        const directory = directories.get(item.orgId);
        const prompts = promptsFor(
          directory,
          document.scope.level === 'ROLE' ? document.scope.id : null,
          document.scope.level === 'TEAM' ? document.scope.id : null,
        );
        for (const chunk of this.stages.chunker.chunk(document.content)) {
          const category = this.stages.categorizer.categorize(chunk.content, { type: 'document' });
          const extracted = await this.stages.extractor.extract({
            text: chunk.content,
            source: { type: 'document' },
            prompts,
          });
          const entities = dedupeMentions(extracted.memories.flatMap((memory) => memory.entities));
          candidates.push({
            item,
            document,
            chunkIndex: chunk.index,
            content: normalizeContent(chunk.content),
            category,
            entities,
          });
        }
        handled.add(item.itemId);
      } catch (error) {
        fail(item, error);
      }
    }

    await stage('embed');
    const live = candidates.filter((candidate) => !failures.has(candidate.item.itemId));
    try {
      const vectors = await this.stages.embedder.embed(live.map((candidate) => candidate.content));
      live.forEach((candidate, i) => (candidate.embedding = vectors[i]));
    } catch (error) {
      for (const candidate of live) fail(candidate.item, error);
    }

    // Until the entity subgraph resolves them, mentions are recorded with the memory.
    await stage('resolve');
    await stage('organize');
    const outcomes: ItemOutcome[] = [];
    for (const item of items) {
      if (failures.has(item.itemId) || !handled.has(item.itemId)) {
        outcomes.push({
          itemId: item.itemId,
          jobId: item.jobId,
          ok: false,
          error: failures.get(item.itemId) ?? 'not processed',
        });
        continue;
      }
      const own = live.filter((candidate) => candidate.item.itemId === item.itemId);
      try {
        await this.store.transaction((tx) => this.write(tx, item, own));
        outcomes.push({ itemId: item.itemId, jobId: item.jobId, ok: true });
      } catch (error) {
        outcomes.push({ itemId: item.itemId, jobId: item.jobId, ok: false, error: describe(error) });
      }
    }
    await stage('store');
    return outcomes;
  }

  private async write(tx: MemoryStore, item: WorkItem, candidates: readonly Candidate[]): Promise<void> {
    const now = this.now();
    if (item.payload.type === 'event') {
      for (const candidate of candidates) {
        await this.organizer.organize(tx, this.toNewMemory(candidate), now);
      }
      return;
    }
    // A document version: write its chunks, then close the previous version's chunks, each
    // superseded by the chunk of the same index (history), or by nothing when the new version is shorter.
    const { documentId, version } = item.payload;
    const written = new Map<number, string>();
    for (const candidate of candidates) {
      const { id } = await tx.insertMemory(this.toNewMemory(candidate));
      written.set(candidate.chunkIndex!, id);
    }
    if (version > 1) {
      for (let previous = version - 1; previous >= 1; previous--) {
        for (const old of await tx.documentMemories(item.orgId, documentId, previous)) {
          await tx.closeMemory(old.id, written.get(old.chunkIndex) ?? null, now);
        }
      }
      await tx.markDocumentReplaced(item.orgId, documentId, version, now);
    }
  }

  private toNewMemory(candidate: Candidate): NewMemory {
    const { event, document } = candidate;
    const base = {
      content: candidate.content,
      contentHash: contentHash(candidate.content),
      category: candidate.category,
      embedding: candidate.embedding ?? null,
      embeddingModel: candidate.embedding ? this.stages.embedder.modelId : null,
      expiresAt: null,
      mentions: candidate.entities,
    };
    if (event) {
      return {
        ...base,
        orgId: event.orgId,
        scope: { level: 'ACTOR', id: event.actorId },
        actorId: event.actorId,
        provenance: {
          eventIds: [event.eventId],
          documentId: null,
          documentVersion: null,
          chunkIndex: null,
          sourceMemoryIds: [],
        },
        validFrom: event.occurredAt,
        metadata: {
          sessionId: event.sessionId,
          eventKind: event.kind,
          roleId: event.roleId,
          teamId: event.teamId,
          extractor: this.stages.extractor.id,
        },
      };
    }
    const doc = document!;
    return {
      ...base,
      orgId: doc.orgId,
      scope: doc.scope,
      actorId: null,
      provenance: {
        eventIds: [],
        documentId: doc.documentId,
        documentVersion: doc.version,
        chunkIndex: candidate.chunkIndex!,
        sourceMemoryIds: [],
      },
      validFrom: this.now(),
      metadata: { ...doc.metadata, extractor: this.stages.extractor.id },
    };
  }

  private async load(items: readonly WorkItem[], fail: (item: WorkItem, error: unknown) => void) {
    const events: Array<{ item: WorkItem; event: StoredEvent }> = [];
    const documents: Array<{ item: WorkItem; document: DocumentVersion }> = [];
    const byOrg = new Map<string, WorkItem[]>();
    for (const item of items) byOrg.set(item.orgId, [...(byOrg.get(item.orgId) ?? []), item]);
    for (const [orgId, orgItems] of byOrg) {
      const eventIds = orgItems.flatMap((item) =>
        item.payload.type === 'event' ? [item.payload.eventId] : [],
      );
      const stored = new Map(
        (await this.store.getEvents(orgId, eventIds)).map((event) => [event.eventId, event]),
      );
      for (const item of orgItems) {
        if (item.payload.type === 'event') {
          const event = stored.get(item.payload.eventId);
          // Forgotten (forgetActor) between ingestion and processing: nothing left to do.
          if (event) events.push({ item, event });
          else fail(item, new Error(`event ${item.payload.eventId} no longer exists`));
        } else {
          const document = await this.store.getDocumentVersion(
            orgId,
            item.payload.documentId,
            item.payload.version,
          );
          if (document) documents.push({ item, document });
          else
            fail(
              item,
              new Error(`document ${item.payload.documentId} v${item.payload.version} no longer exists`),
            );
        }
      }
    }
    return { events, documents };
  }

  private async directories(
    loaded: { events: Array<{ item: WorkItem; event: StoredEvent }> },
    items: readonly WorkItem[],
    fail: (item: WorkItem, error: unknown) => void,
  ): Promise<Map<string, OrgDirectory | null>> {
    const result = new Map<string, OrgDirectory | null>();
    for (const orgId of new Set(items.map((item) => item.orgId))) {
      const actorIds = loaded.events
        .filter(({ item }) => item.orgId === orgId)
        .map(({ event }) => event.actorId);
      try {
        result.set(orgId, await this.directory.lookup(orgId, actorIds));
      } catch (error) {
        // Prompts only bias extraction; without them the items are retried later.
        for (const item of items) if (item.orgId === orgId) fail(item, error);
      }
    }
    return result;
  }
}

/** The promotion prompts of an input's org, role and team (seed 000). */
export function promptsFor(
  directory: OrgDirectory | null | undefined,
  roleId: string | null,
  teamId: string | null,
): ScopePrompts {
  if (!directory) return {};
  return {
    org: directory.promotionPrompt,
    role: roleId ? directory.roles.get(roleId)?.promotionPrompt : undefined,
    team: teamId ? directory.teams.get(teamId)?.promotionPrompt : undefined,
  };
}

function dedupeMentions(mentions: readonly EntityMention[]): EntityMention[] {
  const seen = new Map<string, EntityMention>();
  for (const mention of mentions) seen.set(`${mention.type}:${mention.name.toLowerCase()}`, mention);
  return [...seen.values()];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
