import { CATEGORIES, createRng, generateDataset } from '../../bench/eval/dataset';
import { evidenceOf, meanScore, recallAt, reciprocalRank, scoreQuestion } from '../../bench/eval/metrics';

/** The retrieval eval's metric code and generator (`npm run eval`, issue 5 item 8); no ingestion here. */
describe('eval metrics', () => {
  const ranked = [['e1'], ['doc_a'], ['e2', 'e3'], [], ['e4']];

  it('recall@k is the fraction of evidence ids covered by the top k items', () => {
    expect(recallAt(1, ranked, ['e3', 'e4'])).toBe(0);
    expect(recallAt(3, ranked, ['e3', 'e4'])).toBe(0.5);
    expect(recallAt(5, ranked, ['e3', 'e4'])).toBe(1);
    expect(recallAt(10, ranked, ['doc_a'])).toBe(1);
    expect(recallAt(10, ranked, ['missing'])).toBe(0);
    // An id covered by two items counts once.
    expect(recallAt(5, [['e1'], ['e1']], ['e1', 'e2'])).toBe(0.5);
    expect(() => recallAt(5, ranked, [])).toThrow('evidence');
  });

  it('reciprocal rank uses the first item covering any evidence id', () => {
    expect(reciprocalRank(ranked, ['e2'])).toBeCloseTo(1 / 3);
    expect(reciprocalRank(ranked, ['e4', 'doc_a'])).toBe(0.5);
    expect(reciprocalRank(ranked, ['nope'])).toBe(0);
  });

  it('averages scores over questions', () => {
    const a = scoreQuestion(ranked, ['e1']);
    const b = scoreQuestion(ranked, ['e4', 'nope']);
    expect(a).toEqual({ recall5: 1, recall10: 1, mrr: 1 });
    expect(b).toEqual({ recall5: 0.5, recall10: 0.5, mrr: 0.2 });
    expect(meanScore([a, b])).toEqual({ recall5: 0.75, recall10: 0.75, mrr: 0.6 });
    expect(meanScore([])).toEqual({ recall5: 0, recall10: 0, mrr: 0 });
  });

  it('maps a memory provenance to evidence ids', () => {
    expect(evidenceOf({ eventIds: ['e1', 'e2'], documentId: null })).toEqual(['e1', 'e2']);
    expect(evidenceOf({ eventIds: [], documentId: 'doc_a' })).toEqual(['doc_a']);
  });
});

describe('eval dataset generator', () => {
  const options = { seed: 11, actors: 12, sessions: 4, questionsPerActor: 3, documentQuestionsPerActor: 1 };

  it('is deterministic: the same seed gives the same set, another seed a different one', () => {
    const a = generateDataset(options);
    const b = generateDataset(options);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = generateDataset({ ...options, seed: 12 });
    expect(JSON.stringify(c.events)).not.toBe(JSON.stringify(a.events));
    expect(createRng(5).next()).toBe(createRng(5).next());
  });

  it('every question has evidence that exists in the set and that its actor can see', () => {
    const data = generateDataset(options);
    expect(data.questions).toHaveLength(options.actors * 4);
    const events = new Map(data.events.map((event) => [event.eventId, event]));
    const documents = new Map(data.documents.map((doc) => [doc.documentId, doc]));
    const actors = new Map(data.actors.map((actor) => [actor.actorId, actor]));
    for (const question of data.questions) {
      const actor = actors.get(question.actorId)!;
      expect(actor).toBeDefined();
      expect(question.evidence.length).toBeGreaterThan(0);
      for (const id of question.evidence) {
        const event = events.get(id);
        const doc = documents.get(id);
        expect(event ?? doc).toBeDefined();
        if (event) {
          expect(event.actorId).toBe(question.actorId);
          expect(event.kind).toBe('USER_MESSAGE');
        }
        if (doc?.scope.level === 'ROLE') expect(doc.scope.roleKey).toBe(actor.roleKey);
        if (doc?.scope.level === 'TEAM') expect(doc.scope.teamKey).toBe(actor.teamKey);
      }
    }
  });

  it('ids are unique, sessions are ordered in time, multi-session evidence spans two sessions in order', () => {
    const data = generateDataset(options);
    expect(new Set(data.events.map((e) => e.eventId)).size).toBe(data.events.length);
    expect(new Set(data.questions.map((q) => q.questionId)).size).toBe(data.questions.length);
    for (const actor of data.actors) {
      const own = data.events.filter((event) => event.actorId === actor.actorId);
      for (let i = 1; i < own.length; i++) {
        expect(own[i]!.session).toBeGreaterThanOrEqual(own[i - 1]!.session);
        expect(own[i]!.occurredAt.getTime()).toBeGreaterThan(own[i - 1]!.occurredAt.getTime());
      }
    }
    const byId = new Map(data.events.map((event) => [event.eventId, event]));
    for (const question of data.questions.filter((q) => q.category === 'multi-session')) {
      const sessions = question.evidence.map((id) => byId.get(id)!.session);
      expect(sessions).toHaveLength(2);
      expect(sessions[1]).toBeGreaterThan(sessions[0]!);
    }
  });

  it('asks varied questions: several categories, own facts and documents', () => {
    const data = generateDataset({ ...options, actors: 60 });
    const seen = new Set(data.questions.map((q) => q.category));
    for (const category of CATEGORIES) expect(seen).toContain(category);
    expect(new Set(data.actors.map((a) => a.roleKey)).size).toBe(data.roles.length);
    expect(data.documents.some((doc) => doc.scope.level !== 'ORG')).toBe(true);
  });
});
