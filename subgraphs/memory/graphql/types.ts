import 'reflect-metadata';
import { PageInfo, Scope, ScopeLevel } from '../../../common/graphql-types';

export { Scope, ScopeLevel };
import { Directive, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { JSONObjectResolver } from 'graphql-scalars';

export enum IngestionPriority {
  REALTIME = 'REALTIME',
  BOOTSTRAP = 'BOOTSTRAP',
}
export enum EventKind {
  USER_MESSAGE = 'USER_MESSAGE',
  ASSISTANT_MESSAGE = 'ASSISTANT_MESSAGE',
  TOOL_RESULT = 'TOOL_RESULT',
  NOTE = 'NOTE',
}
export enum JobStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  DONE = 'DONE',
  FAILED = 'FAILED',
}
export enum MemoryCategory {
  FACT = 'FACT',
  PREFERENCE = 'PREFERENCE',
  PROCEDURE = 'PROCEDURE',
  EPISODE = 'EPISODE',
  DOCUMENT = 'DOCUMENT',
}
registerEnumType(IngestionPriority, {
  name: 'IngestionPriority',
  description: 'REALTIME work is always processed before BOOTSTRAP (bulk) work.',
});
registerEnumType(EventKind, { name: 'EventKind' });
registerEnumType(JobStatus, { name: 'JobStatus' });
registerEnumType(MemoryCategory, { name: 'MemoryCategory' });

@ObjectType({ description: 'Where a memory came from. Never dropped by dedup, supersession or promotion.' })
export class Provenance {
  @Field(() => [ID]) eventIds!: string[];
  @Field(() => ID, { nullable: true }) documentId!: string | null;
  @Field(() => Int, { nullable: true }) documentVersion!: number | null;
  @Field(() => Int, { nullable: true }) chunkIndex!: number | null;
  @Field(() => [ID], { description: 'Memories this one was promoted or merged from.' })
  sourceMemoryIds!: string[];
}

@ObjectType({
  description: 'An entity mention as extracted; the entity subgraph resolves mentions to entities.',
})
export class Mention {
  @Field() name!: string;
  @Field() type!: string;
}

@Directive('@key(fields: "id")')
@ObjectType({
  description: 'A fact, preference, procedure, episode or document chunk, at exactly one scope.',
})
export class Memory {
  @Field(() => ID) id!: string;
  @Field(() => ID) orgId!: string;
  @Field() content!: string;
  @Field(() => MemoryCategory) category!: MemoryCategory;
  @Field(() => Scope) scope!: Scope;
  @Field(() => Provenance) provenance!: Provenance;
  @Field({ description: 'Since when it holds (the event time, or when it was stored).' }) validFrom!: Date;
  @Field(() => Date, { nullable: true, description: 'Set when it was superseded or its document replaced.' })
  validTo!: Date | null;
  @Field(() => ID, { nullable: true }) supersededBy!: string | null;
  @Field(() => Date, { nullable: true }) expiresAt!: Date | null;
  @Field() createdAt!: Date;
  @Field(() => JSONObjectResolver) metadata!: Record<string, unknown>;
  @Field(() => String, {
    nullable: true,
    description: 'Model of its vector; vectors of different models are never compared.',
  })
  embeddingModel!: string | null;
}

@ObjectType()
export class IngestionJob {
  @Field(() => ID) jobId!: string;
  @Field(() => ID) orgId!: string;
  @Field({ description: 'INGEST_EVENTS, INGEST_DOCUMENTS or PROMOTE_MEMORIES.' }) kind!: string;
  @Field(() => IngestionPriority) priority!: IngestionPriority;
  @Field(() => JobStatus) status!: JobStatus;
  @Field(() => String, {
    nullable: true,
    description:
      'Pipeline stage of the latest batch: categorize, extract, chunk, embed, resolve, organize, store, done.',
  })
  stage!: string | null;
  @Field(() => Int, { description: 'Items (events or documents) finished, failed ones included.' })
  processed!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int) total!: number;
  @Field(() => [String], { description: 'Errors of failed items (the first 100).' }) errors!: string[];
  @Field(() => String, { nullable: true }) message!: string | null;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
}

@ObjectType({ description: 'One progress report of a job, sent on every change until it ends.' })
export class JobProgress {
  @Field(() => ID) jobId!: string;
  @Field(() => JobStatus) status!: JobStatus;
  @Field(() => String, { nullable: true }) stage!: string | null;
  @Field(() => Int) processed!: number;
  @Field(() => Int) total!: number;
  @Field(() => Int) failed!: number;
  @Field(() => [String]) errors!: string[];
  @Field(() => String, { nullable: true }) message!: string | null;
}

@ObjectType({ description: 'What forgetActor removed.' })
export class ForgetActorResult {
  @Field(() => ID) actorId!: string;
  @Field(() => Int) events!: number;
  @Field(() => Int) memories!: number;
  @Field(() => Int) vectors!: number;
  @Field(() => Int) entityLinks!: number;
}

@ObjectType()
export class MemoryEdge {
  @Field() cursor!: string;
  @Field(() => Memory) node!: Memory;
}

@ObjectType()
export class MemoryConnection {
  @Field(() => [Memory]) nodes!: Memory[];
  @Field(() => [MemoryEdge]) edges!: MemoryEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType()
export class IngestionJobEdge {
  @Field() cursor!: string;
  @Field(() => IngestionJob) node!: IngestionJob;
}

@ObjectType()
export class IngestionJobConnection {
  @Field(() => [IngestionJob]) nodes!: IngestionJob[];
  @Field(() => [IngestionJobEdge]) edges!: IngestionJobEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@Directive('@key(fields: "actorId orgId")')
@ObjectType({ description: 'An actor (owned by the hierarchy subgraph), with its memories and its context.' })
export class Actor {
  @Field(() => ID) actorId!: string;
  @Field(() => ID) orgId!: string;
  @Directive('@external')
  @Field(() => ID, { nullable: true })
  roleId!: string | null;
  @Directive('@external')
  @Field(() => ID, { nullable: true })
  teamId!: string | null;
}

@ObjectType({ description: 'One memory of a context result, with why it ranked where it did.' })
export class ContextItem {
  @Field(() => Memory) memory!: Memory;
  @Field(() => Float, { description: 'Fused relevance (0–1) times the scope weight.' }) score!: number;
  @Field(() => Scope) scope!: Scope;
  @Field({
    description: 'The signals behind the rank: lexical/vector rank, entity matches, scope weight, overrides.',
  })
  explanation!: string;
  @Field(() => ID, {
    nullable: true,
    description: 'A more specific memory in this result that contradicts this one.',
  })
  overriddenBy!: string | null;
}

@ObjectType({
  description:
    "The context that fits an actor: its own, its role's, its team's and the org's memories, merged.",
})
export class ContextResult {
  @Field(() => [ContextItem]) items!: ContextItem[];
  @Field({ description: 'The items packed as prompt-ready lines ("[SCOPE] content"), within maxTokens.' })
  text!: string;
  @Field({ description: 'Whether the org part came from the cache.' }) cached!: boolean;
  @Field(() => Float) tookMs!: number;
}

@InputType()
export class EventInput {
  @Field(() => ID, {
    nullable: true,
    description: 'Client id: re-sending an event with the same id is a no-op.',
  })
  eventId?: string | null;
  @Field(() => ID) actorId!: string;
  @Field(() => ID) sessionId!: string;
  @Field(() => EventKind) kind!: EventKind;
  @Field() content!: string;
  @Field(() => ID, { nullable: true, description: "Defaults to the actor's role." }) roleId?: string | null;
  @Field(() => ID, { nullable: true, description: "Defaults to the actor's team." }) teamId?: string | null;
  @Field(() => Date, { nullable: true, description: 'Defaults to now.' }) occurredAt?: Date | null;
  @Field(() => JSONObjectResolver, { nullable: true }) metadata?: Record<string, unknown> | null;
}

@InputType()
export class DocumentInput {
  @Field(() => ID, { description: 'Stable id: re-ingesting it replaces the previous version.' })
  documentId!: string;
  @Field() content!: string;
  @Field(() => JSONObjectResolver, { nullable: true }) metadata?: Record<string, unknown> | null;
}

@InputType({ description: 'Documents are org context by default, or a role’s or team’s.' })
export class DocumentScopeInput {
  @Field(() => ScopeLevel) level!: ScopeLevel;
  @Field(() => ID, { nullable: true }) roleId?: string | null;
  @Field(() => ID, { nullable: true }) teamId?: string | null;
}

@InputType()
export class CreateMemoryInput {
  @Field(() => ID, { nullable: true }) orgId?: string | null;
  @Field() content!: string;
  @Field(() => ID, { nullable: true }) actorId?: string | null;
  @Field(() => ID, { nullable: true }) roleId?: string | null;
  @Field(() => ID, { nullable: true }) teamId?: string | null;
  @Field(() => ID, {
    nullable: true,
    description: 'Makes it a one-document ingestion, versioned by this id.',
  })
  documentId?: string | null;
  @Field(() => JSONObjectResolver, { nullable: true }) metadata?: Record<string, unknown> | null;
  @Field(() => Boolean, {
    nullable: true,
    defaultValue: true,
    description:
      'false stores the content as given: no categorisation, entity extraction or dedup/supersession.',
  })
  infer?: boolean | null;
  @Field(() => MemoryCategory, { nullable: true }) category?: MemoryCategory | null;
  @Field(() => Date, { nullable: true, description: 'After this the memory is never returned.' })
  expiresAt?: Date | null;
}
