/**
 * `npm run eval`: retrieval quality of the context query (issue 5, item 8).
 *
 * Generates a seeded multi-session conversation set with org documents and questions
 * (bench/eval/dataset.ts), ingests it through the real pipeline (IngestionService and the
 * in-process worker: rule extractor, the local sentence encoder, the entity subgraph, the
 * embedded Postgres), then asks every question through ContextService.retrieve with all three
 * signals (hybrid), vector only and lexical only, and prints recall@5, recall@10 and MRR of the
 * questions' evidence ids, overall and per question category.
 *
 *   npm run eval
 *   EVAL_SEED=7 EVAL_ACTORS=40 EVAL_SESSIONS=4 EVAL_QUESTIONS=3 EVAL_DOC_QUESTIONS=1 npm run eval
 *   EVAL_VERBOSE=1 npm run eval      # also prints every question hybrid misses at 10
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { loadConfig } from '../../common/config';
import { startEmbeddedPostgres } from '../../common/db/embedded-postgres';
import { startSubgraphServer, type RunningServer } from '../../common/subgraph-server';
import { SUBGRAPHS } from '../../scripts/subgraphs';
import type { HierarchySubgraph } from '../../subgraphs/hierarchy';
import type { MemorySubgraph } from '../../subgraphs/memory';
import { LocalSentenceEmbedder } from '../../subgraphs/memory/embedding/local-sentence-embedder';
import type { RetrievalSignal } from '../../subgraphs/memory/services/context-service';
import { CATEGORIES, generateDataset, type EvalDataset, type EvalQuestion } from './dataset';
import { evidenceOf, meanScore, scoreQuestion, type QuestionScore } from './metrics';

const METHODS: ReadonlyArray<{ name: string; signals: readonly RetrievalSignal[] }> = [
  { name: 'hybrid (vector + lexical + entity)', signals: ['vector', 'lexical', 'entity'] },
  { name: 'vector only', signals: ['vector'] },
  { name: 'lexical only', signals: ['lexical'] },
];

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

async function main(): Promise<void> {
  const started = performance.now();
  const options = {
    seed: intEnv('EVAL_SEED', 1),
    actors: intEnv('EVAL_ACTORS', 60),
    sessions: intEnv('EVAL_SESSIONS', 4),
    questionsPerActor: intEnv('EVAL_QUESTIONS', 3),
    documentQuestionsPerActor: intEnv('EVAL_DOC_QUESTIONS', 1),
  };
  const verbose = process.env.EVAL_VERBOSE === '1';
  const command = `EVAL_SEED=${options.seed} EVAL_ACTORS=${options.actors} EVAL_SESSIONS=${options.sessions} EVAL_QUESTIONS=${options.questionsPerActor} EVAL_DOC_QUESTIONS=${options.documentQuestionsPerActor} npm run eval`;
  const data = generateDataset(options);
  console.log(
    `seed ${data.seed}: ${data.actors.length} actors, ${data.events.length} events, ${data.documents.length} documents, ${data.questions.length} questions`,
  );

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memsy-eval-'));
  const postgres = await startEmbeddedPostgres();
  const embedder = await LocalSentenceEmbedder.create();
  const config = loadConfig({
    NODE_ENV: 'production',
    PORT: '0',
    MEMSY_DATA_DIR: dataDir,
    MEMORY_WORKER_POLL_MS: '50',
  });
  const database = { url: postgres.url, embedded: true };
  const internalSecret = 'eval-internal-secret-not-used-outside-this-process';
  const subgraphUrls: Record<string, string> = {};
  const servers: RunningServer[] = [];
  const subgraphs: Array<{ name: string; close(): Promise<void> }> = [];
  const db = new Pool({ connectionString: postgres.url, max: 1 });
  try {
    for (const definition of SUBGRAPHS) {
      const subgraph = await definition.create({ config, database, internalSecret, subgraphUrls, embedder });
      subgraphs.push(subgraph);
      const server = await startSubgraphServer(subgraph, { host: '127.0.0.1', port: 0, internalSecret });
      servers.push(server);
      subgraphUrls[definition.name] = server.url;
    }
    const hierarchy = subgraphs.find((s) => s.name === 'hierarchy') as HierarchySubgraph;
    const memory = subgraphs.find((s) => s.name === 'memory') as MemorySubgraph;

    const ids = await createHierarchy(hierarchy, data);
    const ingestStarted = performance.now();
    await ingest(memory, data, ids);
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;
    const counts = (
      await db.query(
        `SELECT count(*) FILTER (WHERE document_id IS NULL)::int AS conversation,
                count(*) FILTER (WHERE document_id IS NOT NULL)::int AS document
         FROM memory.memories WHERE org_id = $1 AND valid_to IS NULL`,
        [data.orgId],
      )
    ).rows[0] as { conversation: number; document: number };
    console.log(
      `ingested in ${ingestSeconds.toFixed(1)} s: ${counts.conversation} conversation memories, ${counts.document} document chunks (current)`,
    );

    // Ceiling: evidence ids that some current memory still carries (supersession can close one).
    const live = new Set(
      (
        (
          await db.query(
            `SELECT source_event_ids, document_id FROM memory.memories WHERE org_id = $1 AND valid_to IS NULL`,
            [data.orgId],
          )
        ).rows as Array<{ source_event_ids: string[]; document_id: string | null }>
      ).flatMap((row) => evidenceOf({ eventIds: row.source_event_ids, documentId: row.document_id })),
    );
    const reachable = data.questions.filter((q) => q.evidence.every((id) => live.has(id))).length;

    const actors = new Map(data.actors.map((actor) => [actor.actorId, actor]));
    const scores = new Map<string, Map<string, QuestionScore>>(METHODS.map((m) => [m.name, new Map()]));
    const misses: string[] = [];
    const retrieveStarted = performance.now();
    for (const question of data.questions) {
      const actor = actors.get(question.actorId)!;
      for (const method of METHODS) {
        const result = await memory.services.context.retrieve({
          orgId: data.orgId,
          actorId: actor.actorId,
          roleId: ids.roles.get(actor.roleKey)!,
          teamId: ids.teams.get(actor.teamKey)!,
          query: question.query,
          limit: 10,
          signals: method.signals,
        });
        const ranked = result.items.map((item) => evidenceOf(item.memory.provenance));
        const score = scoreQuestion(ranked, question.evidence);
        scores.get(method.name)!.set(question.questionId, score);
        if (verbose && method === METHODS[0] && score.recall10 < 1)
          misses.push(
            describeMiss(
              question,
              data,
              result.items.map((item) => item.memory.content),
            ),
          );
      }
    }
    const retrieveSeconds = (performance.now() - retrieveStarted) / 1000;
    if (verbose) console.log(`\nHybrid misses at 10:\n${misses.join('\n')}`);

    const byMethod = (name: string, questions: readonly EvalQuestion[]) =>
      meanScore(questions.map((q) => scores.get(name)!.get(q.questionId)!));
    const fmt = (value: number) => value.toFixed(3);
    const lines: string[] = [];
    lines.push(
      `Retrieval eval, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}, embedded Postgres, rule extractor, ${embedder.modelId}`,
    );
    lines.push(`Command: ${command}`);
    lines.push(
      `Seed ${data.seed}: ${data.actors.length} actors, ${data.events.length} events, ${data.documents.length} documents → ${counts.conversation + counts.document} current memories (${counts.conversation} from conversations, ${counts.document} document chunks); ${data.questions.length} questions (${reachable} with all evidence in a current memory); limit 10 per query.`,
    );
    lines.push('');
    lines.push('| method | recall@5 | recall@10 | MRR@10 |');
    lines.push('|---|---:|---:|---:|');
    for (const method of METHODS) {
      const s = byMethod(method.name, data.questions);
      lines.push(`| ${method.name} | ${fmt(s.recall5)} | ${fmt(s.recall10)} | ${fmt(s.mrr)} |`);
    }
    lines.push('');
    lines.push(
      `| category | questions | ${METHODS.map((m) => `${m.name.split(' ')[0]} R@5 / R@10`).join(' | ')} |`,
    );
    lines.push(`|---|---:|${METHODS.map(() => '---:').join('|')}|`);
    for (const category of CATEGORIES) {
      const questions = data.questions.filter((q) => q.category === category);
      if (questions.length === 0) continue;
      const cells = METHODS.map((m) => {
        const s = byMethod(m.name, questions);
        return `${fmt(s.recall5)} / ${fmt(s.recall10)}`;
      });
      lines.push(`| ${category} | ${questions.length} | ${cells.join(' | ')} |`);
    }
    const hybrid = byMethod(METHODS[0]!.name, data.questions).recall10;
    const others = METHODS.slice(1).map((m) => byMethod(m.name, data.questions).recall10);
    lines.push('');
    lines.push(
      `Hybrid ${others.every((other) => hybrid > other) ? 'beats' : 'does NOT beat'} both vector-only and lexical-only on recall@10 (${fmt(hybrid)} vs ${others.map(fmt).join(' and ')}). ` +
        `Ingestion ${ingestSeconds.toFixed(1)} s, ${data.questions.length * METHODS.length} retrievals ${retrieveSeconds.toFixed(1)} s, total ${((performance.now() - started) / 1000).toFixed(1)} s.`,
    );
    console.log(`\n${lines.join('\n')}`);
  } finally {
    await db.end();
    for (const server of servers.reverse()) await server.close().catch(() => {});
    for (const subgraph of subgraphs.reverse()) await subgraph.close().catch(() => {});
    await embedder.close();
    await postgres.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export interface HierarchyIds {
  roles: Map<string, string>;
  teams: Map<string, string>;
}

export async function createHierarchy(
  hierarchy: HierarchySubgraph,
  data: EvalDataset,
): Promise<HierarchyIds> {
  const service = hierarchy.services.hierarchy;
  await service.createOrg(data.orgId, {
    name: 'Northwind Labs',
    focus: 'B2B analytics and billing software',
  });
  const roles = new Map<string, string>();
  const teams = new Map<string, string>();
  for (const role of data.roles)
    roles.set(role.key, (await service.createChild('role', data.orgId, role)).id);
  for (const team of data.teams)
    teams.set(team.key, (await service.createChild('team', data.orgId, team)).id);
  for (const actor of data.actors)
    await service.upsertActor({
      orgId: data.orgId,
      actorId: actor.actorId,
      roleId: roles.get(actor.roleKey)!,
      teamId: teams.get(actor.teamKey)!,
      displayName: actor.displayName,
    });
  return { roles, teams };
}

/** Documents first, then the conversations one session round at a time (updates after what they replace). */
export async function ingest(memory: MemorySubgraph, data: EvalDataset, ids: HierarchyIds): Promise<void> {
  const { ingestion, store } = memory.services;
  const run = async (jobIds: string[]) => {
    memory.services.workQueued();
    for (;;) {
      const jobs = await store.getJobs(jobIds);
      if (
        jobs.length === jobIds.length &&
        jobs.every((job) => job.status === 'DONE' || job.status === 'FAILED')
      ) {
        const failed = jobs.reduce((sum, job) => sum + job.failed, 0);
        if (failed > 0)
          throw new Error(`${failed} items failed: ${jobs.flatMap((job) => job.errors).join('; ')}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const documentJobs: string[] = [];
  for (const doc of data.documents) {
    const scope =
      doc.scope.level === 'ORG'
        ? null
        : doc.scope.level === 'ROLE'
          ? { level: 'ROLE' as const, roleId: ids.roles.get(doc.scope.roleKey)! }
          : { level: 'TEAM' as const, teamId: ids.teams.get(doc.scope.teamKey)! };
    const job = await ingestion.ingestDocuments(
      data.orgId,
      [{ documentId: doc.documentId, content: doc.content, metadata: { title: doc.title } }],
      'BOOTSTRAP',
      scope,
    );
    documentJobs.push(job.jobId);
  }
  await run(documentJobs);
  const sessions = Math.max(...data.events.map((event) => event.session)) + 1;
  for (let s = 0; s < sessions; s++) {
    const events = data.events.filter((event) => event.session === s);
    const jobIds: string[] = [];
    for (let i = 0; i < events.length; i += 500) {
      const job = await ingestion.ingestEvents(
        data.orgId,
        events.slice(i, i + 500).map((event) => ({
          eventId: event.eventId,
          actorId: event.actorId,
          sessionId: event.sessionId,
          kind: event.kind,
          content: event.content,
          occurredAt: event.occurredAt,
        })),
        'REALTIME',
      );
      jobIds.push(job.jobId);
    }
    await run(jobIds);
  }
}

function describeMiss(question: EvalQuestion, data: EvalDataset, retrieved: string[]): string {
  const evidence = question.evidence.map(
    (id) =>
      data.events.find((event) => event.eventId === id)?.content ??
      data.documents.find((doc) => doc.documentId === id)?.title ??
      id,
  );
  return [
    `- [${question.category}] ${question.actorId}: "${question.query}"`,
    ...evidence.map((text) => `    want: ${text}`),
    ...retrieved.slice(0, 10).map((text, i) => `    ${i + 1}. ${text.slice(0, 110)}`),
  ].join('\n');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
