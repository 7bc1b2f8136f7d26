import { randomUUID } from 'node:crypto';
import {
  BadUserInputError,
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
} from '../../../common/errors';
import type { WorkPayload } from '../queue/job-queue';
import type {
  DocumentVersion,
  EventKind,
  Job,
  MemoryStore,
  Priority,
  Scope,
  StoredEvent,
} from '../storage/memory-store';
import { contentHash, normalizeContent } from './content';
import { MEMORY_LIMITS } from './limits';
import type { OrgDirectory, ScopeDirectory } from './scope-directory';

export interface EventInput {
  eventId?: string | null;
  actorId: string;
  sessionId: string;
  kind: EventKind;
  content: string;
  roleId?: string | null;
  teamId?: string | null;
  occurredAt?: Date | null;
  metadata?: Record<string, unknown> | null;
}

export interface DocumentInput {
  documentId: string;
  content: string;
  metadata?: Record<string, unknown> | null;
}

export interface DocumentScopeInput {
  level: Scope['level'];
  roleId?: string | null;
  teamId?: string | null;
}

/**
 * Accepts events and documents: validates a batch whole (accepted whole or refused whole),
 * stores it with its job and queue items in one transaction, and returns the job at once.
 * Re-sent events (same eventId) and unchanged documents (same documentId and content) are
 * accepted as no-ops.
 */
export class IngestionService {
  constructor(
    private readonly store: MemoryStore,
    private readonly directory: ScopeDirectory,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async ingestEvents(orgId: string, inputs: readonly EventInput[], priority: Priority): Promise<Job> {
    checkBatch(inputs.length, MEMORY_LIMITS.eventsPerBatch, 'events');
    const directory = await this.requireOrg(
      orgId,
      inputs.map((input) => input.actorId),
    );
    const seen = new Set<string>();
    const events: StoredEvent[] = [];
    inputs.forEach((input, index) => {
      const at = `events[${index}]`;
      const content = checkContent(input.content, MEMORY_LIMITS.eventChars, `${at}.content`);
      const eventId = input.eventId ? checkId(input.eventId, `${at}.eventId`) : `evt_${randomUUID()}`;
      const actor = directory.actors.get(input.actorId);
      if (!actor) {
        throw new NotFoundError(
          `Actor "${input.actorId}" not found in org "${orgId}" (${at}): create it with upsertActor first`,
          {
            field: `${at}.actorId`,
          },
        );
      }
      const roleId = input.roleId ?? actor.roleId;
      const teamId = input.teamId ?? actor.teamId;
      if (roleId && !directory.roles.has(roleId))
        throw new NotFoundError(`Role "${roleId}" not found in org "${orgId}" (${at})`, {
          field: `${at}.roleId`,
        });
      if (teamId && !directory.teams.has(teamId))
        throw new NotFoundError(`Team "${teamId}" not found in org "${orgId}" (${at})`, {
          field: `${at}.teamId`,
        });
      if (seen.has(eventId)) return; // the same event twice in one batch counts once
      seen.add(eventId);
      events.push({
        orgId,
        eventId,
        actorId: input.actorId,
        sessionId: checkId(input.sessionId, `${at}.sessionId`),
        kind: input.kind,
        content,
        roleId: roleId ?? null,
        teamId: teamId ?? null,
        occurredAt: input.occurredAt ?? this.now(),
        metadata: checkMetadata(input.metadata, `${at}.metadata`),
      });
    });

    const job = this.newJob(orgId, 'INGEST_EVENTS', priority);
    return this.store.transaction(async (tx) => {
      const inserted = await tx.insertEvents(events, job.jobId);
      const payloads: WorkPayload[] = inserted.map((eventId) => ({ type: 'event', eventId }));
      const final = withTotal(
        job,
        payloads.length,
        `${events.length - inserted.length} of ${events.length} events were already ingested`,
      );
      await tx.insertJob(final, payloads);
      return final;
    });
  }

  async ingestDocuments(
    orgId: string,
    inputs: readonly DocumentInput[],
    priority: Priority,
    scopeInput: DocumentScopeInput | null | undefined,
  ): Promise<Job> {
    checkBatch(inputs.length, MEMORY_LIMITS.documentsPerBatch, 'documents');
    const directory = await this.requireOrg(orgId, []);
    const scope = documentScope(orgId, scopeInput, directory);
    const documents = new Map<string, { content: string; metadata: Record<string, unknown> }>();
    inputs.forEach((input, index) => {
      const at = `documents[${index}]`;
      const documentId = checkId(input.documentId, `${at}.documentId`);
      if (documents.has(documentId))
        throw new BadUserInputError(`documentId "${documentId}" appears twice in the batch`, {
          field: `${at}.documentId`,
        });
      documents.set(documentId, {
        content: checkContent(input.content, MEMORY_LIMITS.documentChars, `${at}.content`),
        metadata: checkMetadata(input.metadata, `${at}.metadata`),
      });
    });

    const job = this.newJob(orgId, 'INGEST_DOCUMENTS', priority);
    try {
      return await this.store.transaction(async (tx) => {
        const current = new Map(
          (await tx.currentDocuments(orgId, [...documents.keys()])).map((doc) => [doc.documentId, doc]),
        );
        const payloads: WorkPayload[] = [];
        for (const [documentId, { content, metadata }] of documents) {
          const previous = current.get(documentId);
          const hash = contentHash(content);
          if (previous && previous.contentHash === hash && sameScope(previous.scope, scope)) continue; // unchanged: nothing to do
          const version: DocumentVersion = {
            orgId,
            documentId,
            version: (previous?.version ?? 0) + 1,
            scope,
            content,
            contentHash: hash,
            metadata,
          };
          await tx.insertDocumentVersion(version);
          payloads.push({ type: 'document', documentId, version: version.version });
        }
        const final = withTotal(
          job,
          payloads.length,
          `${documents.size - payloads.length} of ${documents.size} documents were unchanged`,
        );
        await tx.insertJob(final, payloads);
        return final;
      });
    } catch (error) {
      if ((error as { driverError?: { code?: string } }).driverError?.code === '23505') {
        throw new ConflictError(
          'A document of this batch is being ingested by another request at the same time; retry',
        );
      }
      throw error;
    }
  }

  async requireOrg(orgId: string, actorIds: readonly string[]): Promise<OrgDirectory> {
    const directory = await this.directory.lookup(orgId, actorIds);
    if (!directory) throw new NotFoundError(`Org "${orgId}" not found`);
    return directory;
  }

  private newJob(orgId: string, kind: Job['kind'], priority: Priority): Job {
    const now = this.now();
    return {
      jobId: `job_${randomUUID()}`,
      orgId,
      kind,
      priority,
      status: 'QUEUED',
      stage: 'queued',
      processed: 0,
      failed: 0,
      total: 0,
      errors: [],
      message: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    };
  }
}

/** A job with its real size; an empty one is finished on arrival. */
function withTotal(job: Job, total: number, skippedMessage: string): Job {
  if (total > 0) return { ...job, total };
  return {
    ...job,
    total: 0,
    status: 'DONE',
    stage: 'done',
    message: skippedMessage,
    startedAt: job.createdAt,
    finishedAt: job.createdAt,
  };
}

/** Scope of documents: the org by default, or one of its roles or teams. */
export function documentScope(
  orgId: string,
  input: DocumentScopeInput | null | undefined,
  directory: OrgDirectory,
): Scope {
  const level = input?.level ?? 'ORG';
  if (level === 'ORG') return { level, id: orgId };
  if (level === 'ROLE') {
    if (!input?.roleId)
      throw new BadUserInputError('scope.roleId is required when scope.level is ROLE', {
        field: 'scope.roleId',
      });
    if (!directory.roles.has(input.roleId))
      throw new NotFoundError(`Role "${input.roleId}" not found in org "${orgId}"`);
    return { level, id: input.roleId };
  }
  if (level === 'TEAM') {
    if (!input?.teamId)
      throw new BadUserInputError('scope.teamId is required when scope.level is TEAM', {
        field: 'scope.teamId',
      });
    if (!directory.teams.has(input.teamId))
      throw new NotFoundError(`Team "${input.teamId}" not found in org "${orgId}"`);
    return { level, id: input.teamId };
  }
  throw new BadUserInputError(
    `Documents are org, role or team context; scope.level ${level} is not accepted here`,
    { field: 'scope.level' },
  );
}

function sameScope(a: Scope, b: Scope): boolean {
  return a.level === b.level && a.id === b.id;
}

export function checkBatch(size: number, max: number, what: string): void {
  if (size === 0) throw new BadUserInputError(`${what} must not be empty`, { field: what });
  if (size > max)
    throw new PayloadTooLargeError(`At most ${max} ${what} per call (got ${size}); split the batch`, {
      field: what,
    });
}

export function checkContent(content: string, maxChars: number, field: string): string {
  const normalized = normalizeContent(content);
  if (!normalized) throw new BadUserInputError(`${field} must not be empty`, { field });
  if (normalized.length > maxChars) {
    throw new PayloadTooLargeError(`${field} is ${normalized.length} characters; the limit is ${maxChars}`, {
      field,
    });
  }
  return normalized;
}

export function checkId(id: string, field: string): string {
  const trimmed = id.trim();
  if (!trimmed) throw new BadUserInputError(`${field} must not be empty`, { field });
  if (trimmed.length > MEMORY_LIMITS.idChars)
    throw new BadUserInputError(`${field} must be at most ${MEMORY_LIMITS.idChars} characters`, { field });
  return trimmed;
}

export function checkMetadata(
  metadata: Record<string, unknown> | null | undefined,
  field: string,
): Record<string, unknown> {
  if (!metadata) return {};
  if (JSON.stringify(metadata).length > MEMORY_LIMITS.metadataBytes) {
    throw new PayloadTooLargeError(
      `${field} must serialise to at most ${MEMORY_LIMITS.metadataBytes} bytes`,
      { field },
    );
  }
  return metadata;
}
