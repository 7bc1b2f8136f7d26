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
import type { DocumentVersion, MemoryStore, NewMemory, Scope, StoredEvent } from '../storage/memory-store';
import { scopeChain, type EntityLinker, type MemoryLinks } from './entity-linker';
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
  /** Entities the mentions resolved to (resolve stage). */
  entityIds?: string[];
}

/** What writing one item changed in the graph's view: memories to link, memories to unlink. */
interface ItemWrite {
  links: MemoryLinks[];
  closed: string[];
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
    private readonly linker: EntityLinker | undefined,
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

    // Mentions resolve to entities along each memory's scope chain (entity subgraph).
    await stage('resolve');
    await this.resolveEntities(
      live.filter((candidate) => !failures.has(candidate.item.itemId)),
      fail,
    );

    await stage('organize');
    const written = new Map<string, ItemWrite>();
    for (const item of items) {
      if (failures.has(item.itemId) || !handled.has(item.itemId)) continue;
      const own = live.filter((candidate) => candidate.item.itemId === item.itemId);
      try {
        written.set(item.itemId, await this.store.transaction((tx) => this.write(tx, item, own)));
      } catch (error) {
        fail(item, error);
      }
    }

    // Links are written once the memories exist; a failure retries the item, which finds
    // its memories already stored (idempotent) and links them again.
    await stage('store');
    if (this.linker) {
      for (const orgId of new Set(items.map((item) => item.orgId))) {
        const orgItems = items.filter((item) => item.orgId === orgId && written.has(item.itemId));
        const writes = orgItems.map((item) => written.get(item.itemId)!);
        try {
          await this.linker.link(
            orgId,
            writes.flatMap((write) => write.links),
          );
          await this.linker.unlink(
            orgId,
            writes.flatMap((write) => write.closed),
          );
        } catch (error) {
          for (const item of orgItems) fail(item, error);
        }
      }
    }
    return items.map((item): ItemOutcome =>
      failures.has(item.itemId) || !written.has(item.itemId)
        ? {
            itemId: item.itemId,
            jobId: item.jobId,
            ok: false,
            error: failures.get(item.itemId) ?? 'not processed',
          }
        : { itemId: item.itemId, jobId: item.jobId, ok: true },
    );
  }

  private async resolveEntities(
    candidates: readonly Candidate[],
    fail: (item: WorkItem, error: unknown) => void,
  ): Promise<void> {
    if (!this.linker) return;
    const withMentions = candidates.filter((candidate) => candidate.entities.length > 0);
    for (const orgId of new Set(withMentions.map((candidate) => candidate.item.orgId))) {
      const own = withMentions.filter((candidate) => candidate.item.orgId === orgId);
      try {
        const resolved = await this.linker.resolve(
          orgId,
          own.map((candidate, i) => {
            const scope = this.scopeOf(candidate);
            return {
              key: String(i),
              scope,
              chain: scopeChain(
                orgId,
                scope,
                candidate.event?.roleId ?? null,
                candidate.event?.teamId ?? null,
              ),
              mentions: candidate.entities,
            };
          }),
        );
        own.forEach((candidate, i) => (candidate.entityIds = resolved.get(String(i)) ?? []));
      } catch (error) {
        for (const candidate of own) fail(candidate.item, error);
      }
    }
  }

  private scopeOf(candidate: Candidate): Scope {
    return candidate.event ? { level: 'ACTOR', id: candidate.event.actorId } : candidate.document!.scope;
  }

  private async write(tx: MemoryStore, item: WorkItem, candidates: readonly Candidate[]): Promise<ItemWrite> {
    const now = this.now();
    const links: MemoryLinks[] = [];
    const linkTo = (candidate: Candidate, memoryId: string) =>
      links.push({
        memoryId,
        memoryScope: this.scopeOf(candidate),
        documentId: candidate.document?.documentId ?? null,
        entityIds: candidate.entityIds ?? [],
      });
    if (item.payload.type === 'event') {
      for (const candidate of candidates) {
        const outcome = await this.organizer.organize(tx, this.toNewMemory(candidate), now);
        linkTo(candidate, outcome.id);
      }
      return { links, closed: [] };
    }
    // A document version: write its chunks, then close the previous version's chunks, each
    // superseded by the chunk of the same index (history), or by nothing when the new version is shorter.
    const { documentId, version } = item.payload;
    const written = new Map<number, string>();
    for (const candidate of candidates) {
      const { id } = await tx.insertMemory(this.toNewMemory(candidate));
      written.set(candidate.chunkIndex!, id);
      linkTo(candidate, id);
    }
    const closed: string[] = [];
    if (version > 1) {
      for (let previous = version - 1; previous >= 1; previous--) {
        for (const old of await tx.documentMemories(item.orgId, documentId, previous)) {
          await tx.closeMemory(old.id, written.get(old.chunkIndex) ?? null, now);
          closed.push(old.id);
        }
      }
      await tx.markDocumentReplaced(item.orgId, documentId, version, now);
    }
    return { links, closed };
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
