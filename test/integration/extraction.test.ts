import { UpstreamError } from '../../common/errors';
import { OpenAiChatClient } from '../../common/llm/openai-chat-client';
import { TemplatePromptGenerator } from '../../subgraphs/hierarchy/services/prompt-generator';
import {
  createCategorizer,
  createChunker,
  createExtractor,
  LlmExtractor,
  RuleCategorizer,
  RuleExtractor,
  SentenceChunker,
  splitSentences,
  type ExtractedMemory,
  type ExtractionInput,
  type MemoryCategory,
  type ScopePrompts,
} from '../../subgraphs/memory/extraction';
import {
  ASSISTANT_MESSAGE,
  DOCUMENT,
  EXTRACTION_CASES,
  FIVE_STEP_PROCEDURE,
  LONG_DOCUMENT,
  NOTE,
  OCCURRED_AT,
  TOOL_RESULT,
  USER_MESSAGE,
} from '../support/extraction-cases';
import {
  startFakeOpenAiServer,
  type ChatCompletionBody,
  type FakeOpenAiServer,
} from '../support/fake-openai-server';

/**
 * The extraction stage of the memory subgraph: the offline rule extractor and categorizer (on
 * realistic inputs from the seeds), the sentence chunker's guarantees, and the LLM extractor
 * against a real HTTP server speaking the OpenAI protocol (prompts biased by the scope's
 * promotion prompts, seed 000; strict parsing of the model's JSON).
 */

const rules = new RuleExtractor();

function input(
  text: string,
  source: ExtractionInput['source'],
  extra: Partial<ExtractionInput> = {},
): ExtractionInput {
  return { text, source, prompts: {}, ...extra };
}

function entityNames(memories: readonly ExtractedMemory[]): string[] {
  return memories.flatMap((memory) => memory.entities.map((entity) => entity.name.toLowerCase()));
}

const normalise = (text: string): string => text.replace(/\s+/g, ' ').trim();

describe('RuleExtractor on realistic inputs', () => {
  test.each(EXTRACTION_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const result = await rules.extract(
      input(c.text, c.source, c.occurredAt ? { occurredAt: c.occurredAt } : {}),
    );
    expect(result.prompt).toBeUndefined();
    expect(result.memories.map((memory) => memory.category)).toEqual(c.categories);
    const all = result.memories.flatMap((memory) => memory.entities);
    for (const expected of c.entities ?? []) {
      expect(all).toContainEqual(expected);
    }
    const names = entityNames(result.memories);
    for (const name of c.notEntities ?? []) expect(names).not.toContain(name.toLowerCase());
    const contents = result.memories.map((memory) => memory.content).join('\n');
    for (const text of c.contains ?? []) expect(contents).toContain(text);
    for (const text of c.notContains ?? []) expect(contents).not.toContain(text);
    for (const memory of result.memories) {
      expect(memory.content).toBe(memory.content.trim());
      expect(memory.content).not.toMatch(/\s{2,}/);
      // Entities are de-duplicated case-insensitively within a memory.
      const lower = memory.entities.map((entity) => entity.name.toLowerCase());
      expect(new Set(lower).size).toBe(lower.length);
    }
  });

  test('a question keeps its text and mentions as an EPISODE memory', async () => {
    const { memories } = await rules.extract(input('Does Product X work with Slack?', USER_MESSAGE));
    expect(memories).toEqual([
      {
        content: 'Does Product X work with Slack?',
        category: 'EPISODE',
        entities: [
          { name: 'Product X', type: 'PRODUCT' },
          { name: 'Slack', type: 'PRODUCT' },
        ],
      },
    ]);
  });

  test('entities are de-duplicated case-insensitively, keeping the first spelling', async () => {
    const { memories } = await rules.extract(
      input(
        'Acme Corp renewed for two years. ACME CORP also asked about the Slack integration for Slack Connect.',
        NOTE,
      ),
    );
    expect(memories).toHaveLength(1);
    const acme = memories[0]!.entities.filter((entity) => entity.name.toLowerCase() === 'acme corp');
    expect(acme).toEqual([{ name: 'Acme Corp', type: 'ORGANIZATION' }]);
  });

  test('relative days are left alone without occurredAt, and give no DATE entity', async () => {
    const { memories } = await rules.extract(
      input('Yesterday I deployed the Postgres migration to staging.', USER_MESSAGE),
    );
    expect(memories).toHaveLength(1);
    expect(memories[0]!.content).toBe('Yesterday I deployed the Postgres migration to staging.');
    expect(memories[0]!.entities.filter((entity) => entity.type === 'DATE')).toEqual([]);
  });

  test('the five-step procedure stays one memory holding every step', async () => {
    const { memories } = await rules.extract(input(FIVE_STEP_PROCEDURE, ASSISTANT_MESSAGE));
    expect(memories).toHaveLength(1);
    for (const step of FIVE_STEP_PROCEDURE.split('\n')) expect(memories[0]!.content).toContain(step);
    expect(memories[0]!.category).toBe('PROCEDURE');
  });

  test('a procedure given as a document is a PROCEDURE, prose is a DOCUMENT', async () => {
    const procedure = await rules.extract(input(`How to issue a refund\n\n${FIVE_STEP_PROCEDURE}`, DOCUMENT));
    expect(procedure.memories.map((memory) => memory.category)).toEqual(['PROCEDURE']);
    const prose = await rules.extract(
      input(
        'Refunds are issued to the original payment method. Annual plans are refunded pro rata.',
        DOCUMENT,
      ),
    );
    expect(prose.memories.map((memory) => memory.category)).toEqual(['DOCUMENT']);
  });

  test('a long document becomes bounded chunks, along its sections, that cover every sentence', async () => {
    expect(LONG_DOCUMENT.length).toBeGreaterThan(2800);
    const { memories } = await rules.extract(input(LONG_DOCUMENT, DOCUMENT));
    expect(memories.length).toBeGreaterThanOrEqual(3);
    for (const memory of memories) {
      expect(memory.content.length).toBeLessThanOrEqual(1200);
      expect(['DOCUMENT', 'PROCEDURE']).toContain(memory.category);
    }
    expect(memories.some((memory) => memory.category === 'DOCUMENT')).toBe(true);
    // Chunks follow the sections: the numbered refund steps are a chunk of their own, a procedure.
    for (const heading of ['## Refund policy', '## How to issue a refund', '## Data and security']) {
      expect(memories.some((memory) => memory.content.startsWith(heading))).toBe(true);
    }
    const steps = memories.find((memory) => memory.content.includes('1. Open the Billing page'));
    expect(steps?.category).toBe('PROCEDURE');
    expect(steps?.content).not.toContain('uptime');
    expect(memories.filter((memory) => memory.category === 'PROCEDURE')).toHaveLength(1);
    const all = memories.flatMap((memory) => memory.entities);
    expect(all).toEqual(
      expect.arrayContaining([
        { name: 'Product X', type: 'PRODUCT' },
        { name: 'Slack', type: 'PRODUCT' },
        { name: 'Microsoft Teams', type: 'PRODUCT' },
        { name: 'Acme Corp', type: 'ORGANIZATION' },
        { name: 'Berlin', type: 'PLACE' },
        { name: 'finance@acme.example', type: 'EMAIL' },
        { name: '$5,000', type: 'MONEY' },
      ]),
    );
    const joined = memories.map((memory) => memory.content).join(' ');
    for (const sentence of splitSentences(LONG_DOCUMENT)) expect(joined).toContain(sentence.text);
    // Headings are titles, not entities.
    expect(entityNames(memories)).not.toContain('refund policy');
    expect(entityNames(memories)).not.toContain('service levels');
  });

  test('tool output that is not JSON is kept as one EPISODE memory', async () => {
    const { memories } = await rules.extract(
      input('HTTP 200 OK\nfound 3 open tickets for Acme Corp (oldest: 2 days)', TOOL_RESULT),
    );
    expect(memories).toEqual([
      {
        content: 'HTTP 200 OK found 3 open tickets for Acme Corp (oldest: 2 days)',
        category: 'EPISODE',
        entities: expect.arrayContaining([{ name: 'Acme Corp', type: 'ORGANIZATION' }]),
      },
    ]);
  });

  test('empty input, empty JSON and whitespace give no memories', async () => {
    expect((await rules.extract(input('   \n\t ', USER_MESSAGE))).memories).toEqual([]);
    expect((await rules.extract(input('{}', TOOL_RESULT))).memories).toEqual([]);
    expect((await rules.extract(input('', DOCUMENT))).memories).toEqual([]);
  });

  test('is deterministic and scope-agnostic: prompts do not change what rules extract', async () => {
    const text = EXTRACTION_CASES.map((c) => c.text).join('\n\n');
    const a = await rules.extract(input(text, NOTE, { occurredAt: OCCURRED_AT }));
    const b = await new RuleExtractor().extract(
      input(text, NOTE, {
        occurredAt: OCCURRED_AT,
        prompts: { org: 'Keep only billing facts.', role: 'Ignore refunds.' },
      }),
    );
    expect(b).toEqual(a);
    expect(a.memories.length).toBeGreaterThan(10);
  });
});

describe('RuleCategorizer', () => {
  const categorizer = new RuleCategorizer();
  test.each<[string, ExtractionInput['source'], MemoryCategory]>([
    ['I prefer to use Rust for performance-critical paths.', USER_MESSAGE, 'PREFERENCE'],
    ['I like short answers with code samples.', USER_MESSAGE, 'PREFERENCE'],
    ['Please always answer in French.', USER_MESSAGE, 'PREFERENCE'],
    ["We'd rather not get paged at night.", USER_MESSAGE, 'PREFERENCE'],
    ['Alice doesn’t like phone calls.', NOTE, 'PREFERENCE'],
    ['Product X supports integrations with Slack and Microsoft Teams.', USER_MESSAGE, 'FACT'],
    ['The Enterprise plan has a 99.9% uptime SLA.', ASSISTANT_MESSAGE, 'FACT'],
    ['Does Product X work with Slack?', USER_MESSAGE, 'EPISODE'],
    ['how do I export my tickets', USER_MESSAGE, 'EPISODE'],
    ['Yesterday I rolled back the release.', USER_MESSAGE, 'EPISODE'],
    ['We shipped the new billing page.', USER_MESSAGE, 'EPISODE'],
    ['Open the Billing page. Click Refund. Confirm the amount.', ASSISTANT_MESSAGE, 'PROCEDURE'],
    ['How to reset a password: open Settings, then choose Security.', NOTE, 'PROCEDURE'],
    ['Step 1: stop the worker. Step 2: run the migration.', NOTE, 'PROCEDURE'],
    ['{"status":"ok","rows":3}', TOOL_RESULT, 'EPISODE'],
    ['Our refund policy allows returns within 30 days of purchase.', DOCUMENT, 'DOCUMENT'],
    [FIVE_STEP_PROCEDURE, DOCUMENT, 'PROCEDURE'],
  ])('%s (%j) → %s', (text, source, expected) => {
    expect(categorizer.categorize(text, source)).toBe(expected);
  });

  test('createCategorizer gives the rule categorizer', () => {
    expect(createCategorizer().categorize('I hate flaky tests.', USER_MESSAGE)).toBe('PREFERENCE');
  });
});

/** Deterministic prose: `count` sentences of 4..`maxWords` words. */
function prose(count: number, seed = 7, maxWords = 40): string[] {
  const words = [
    'refund',
    'policy',
    'customer',
    'window',
    'billing',
    'ticket',
    'agent',
    'workspace',
    'channel',
    'plan',
    'owner',
    'notice',
  ];
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state;
  };
  const sentences: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = 4 + (next() % (maxWords - 3));
    const body = Array.from({ length }, () => words[next() % words.length]!).join(' ');
    sentences.push(`Sentence ${i} says the ${body}.`);
  }
  return sentences;
}

describe('SentenceChunker', () => {
  const sentences = prose(80);
  const text = sentences.join(' ');

  test.each([150, 400, 1200])(
    'chunks never exceed maxChars=%i, are indexed 0..n-1 and cover every sentence',
    (maxChars) => {
      const chunks = new SentenceChunker({ maxChars }).chunk(text);
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.map((chunk) => chunk.index)).toEqual(chunks.map((_, index) => index));
      for (const chunk of chunks) {
        expect(chunk.content.length).toBeLessThanOrEqual(maxChars);
        expect(chunk.content).toBe(normalise(chunk.content));
      }
      for (const sentence of sentences) {
        if (sentence.length <= maxChars)
          expect(chunks.some((chunk) => chunk.content.includes(sentence))).toBe(true);
      }
    },
  );

  test.each([1, 2])('consecutive chunks share overlapSentences=%i sentences', (overlapSentences) => {
    // Sentences of at most ~230 characters: any three fit in 700, so the overlap always fits.
    const short = prose(80, 11, 25);
    expect(Math.max(...short.map((sentence) => sentence.length))).toBeLessThan(233);
    const chunker = new SentenceChunker({ maxChars: 700, overlapSentences, minChars: 0 });
    const chunks = chunker.chunkSentences(splitSentences(short.join(' ')));
    expect(chunks.length).toBeGreaterThan(3);
    for (let i = 1; i < chunks.length; i++) {
      const previous = chunks[i - 1]!.sentenceIndexes;
      const current = chunks[i]!.sentenceIndexes;
      expect(current.slice(0, overlapSentences)).toEqual(previous.slice(-overlapSentences));
      // ...and only those: every other sentence of the chunk is new.
      expect(current[overlapSentences]).toBe(previous[previous.length - 1]! + 1);
    }
  });

  test('without overlap the chunks partition the normalised text', () => {
    const chunks = new SentenceChunker({ maxChars: 300, overlapSentences: 0, minChars: 0 }).chunk(text);
    expect(chunks.map((chunk) => chunk.content).join(' ')).toBe(normalise(text));
  });

  test('a sentence longer than maxChars is split at word boundaries', () => {
    const words = Array.from({ length: 400 }, (_, i) => `word${i}`);
    const long = `${words.join(' ')}.`;
    const chunks = new SentenceChunker({ maxChars: 250, overlapSentences: 1 }).chunk(
      `Short intro here. ${long} Short outro here.`,
    );
    expect(chunks.length).toBeGreaterThanOrEqual(long.length / 250);
    for (const chunk of chunks) {
      expect(chunk.content.length).toBeLessThanOrEqual(250);
      // Cuts fall between words: every token is a whole word of the input.
      for (const token of chunk.content.split(' '))
        expect(`Short intro here. ${long} Short outro here.`.split(' ')).toContain(token);
    }
    const seen = new Set(chunks.flatMap((chunk) => chunk.content.split(' ')));
    for (const word of words.slice(0, -1)) expect(seen.has(word)).toBe(true);
    expect(seen.has('word399.')).toBe(true);
  });

  test('a single word longer than maxChars is cut at maxChars', () => {
    const chunks = new SentenceChunker({ maxChars: 50 }).chunk(`Token: ${'x'.repeat(120)} end.`);
    for (const chunk of chunks) expect(chunk.content.length).toBeLessThanOrEqual(50);
    expect(chunks.map((chunk) => chunk.content).join('')).toContain('x'.repeat(50));
  });

  test('whitespace is normalised and markers kept; headings stay with their text', () => {
    const chunks = new SentenceChunker({ maxChars: 400 }).chunk(LONG_DOCUMENT);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(chunk.content).toBe(normalise(chunk.content));
      // No chunk ends with a heading or a line that introduces a list.
      expect(chunk.content).not.toMatch(/(?:^|\. )#{1,6} [^.]*$/);
      expect(chunk.content).not.toMatch(/:$/);
    }
    const integrations = chunks.find((chunk) => chunk.content.includes('## Integrations'));
    expect(integrations?.content).toMatch(/^## Integrations The Slack integration/);
    const list = chunks.find((chunk) => chunk.content.includes('Supported notification events:'));
    expect(list?.content).toContain('Supported notification events: - ticket created');
  });

  test('a short last chunk is rebalanced to at least minChars', () => {
    // Six sentences of 86 characters, three per chunk: greedy packing leaves the tail alone.
    const parts = [
      ...Array.from({ length: 6 }, (_, i) => `Sentence ${i} ${'word '.repeat(15).trim()}.`),
      'Tail end of the text.',
    ];
    const sample = parts.join(' ');
    const greedy = new SentenceChunker({ maxChars: 280, overlapSentences: 0, minChars: 0 }).chunk(sample);
    const balanced = new SentenceChunker({ maxChars: 280, overlapSentences: 0, minChars: 100 }).chunk(sample);
    expect(greedy.map((chunk) => chunk.content.length)).toEqual([260, 260, 21]);
    expect(balanced.map((chunk) => chunk.content.length)).toEqual([260, 173, 108]);
    expect(balanced.map((chunk) => chunk.content).join(' ')).toBe(normalise(sample));
  });

  test('is deterministic; empty input gives no chunks; bad options are refused', () => {
    expect(createChunker().chunk(LONG_DOCUMENT)).toEqual(createChunker().chunk(LONG_DOCUMENT));
    expect(createChunker().chunk(' \n ')).toEqual([]);
    expect(createChunker().chunk('One sentence.')).toEqual([{ index: 0, content: 'One sentence.' }]);
    expect(() => new SentenceChunker({ maxChars: 0 })).toThrow(RangeError);
    expect(() => new SentenceChunker({ overlapSentences: -1 })).toThrow(RangeError);
    expect(() => new SentenceChunker({ maxChars: 100, minChars: 200 })).toThrow(RangeError);
  });
});

describe('LlmExtractor against an OpenAI-compatible server', () => {
  let server: FakeOpenAiServer;
  let llm: OpenAiChatClient;
  let prompts: Required<ScopePrompts>;

  beforeAll(async () => {
    server = await startFakeOpenAiServer();
    llm = new OpenAiChatClient({
      baseUrl: server.url,
      model: 'extract-model',
      timeoutMs: 5_000,
      maxRetries: 0,
    });
    const generator = new TemplatePromptGenerator(() => new Date('2024-01-01T00:00:00Z'));
    const org = { name: 'Acme Inc', focus: 'B2B SaaS company building developer tools' };
    prompts = {
      org: (await generator.generate({ level: 'org', ...org })).prompt,
      role: (
        await generator.generate({
          level: 'role',
          name: 'Backend Engineer',
          focus: 'Python, distributed systems, Postgres',
          org,
        })
      ).prompt,
      team: (
        await generator.generate({
          level: 'team',
          name: 'Platform Team',
          focus: 'Infrastructure, CI/CD, reliability',
          org,
        })
      ).prompt,
    };
  });

  afterAll(async () => {
    await server.close();
  });

  /** The text of every message of the last chat request. */
  function lastRequestText(): string {
    const body = server.requests.at(-1)!.body as ChatCompletionBody;
    return (body.messages ?? []).map((message) => message.content).join('\n\n');
  }

  const SEED_EVENT = 'I prefer to use Rust for performance-critical paths.';

  test('the prompt carries the role and team promotion prompts when given, and not when absent', async () => {
    server.setMode({ kind: 'ok', reply: '{"memories":[]}' });
    const extractor = new LlmExtractor(llm);

    const tagged = await extractor.extract(
      input(SEED_EVENT, USER_MESSAGE, { prompts, occurredAt: OCCURRED_AT }),
    );
    expect(lastRequestText()).toBe(tagged.prompt);
    expect(tagged.prompt).toContain(prompts.org);
    expect(tagged.prompt).toContain(prompts.team);
    expect(tagged.prompt).toContain(prompts.role);
    expect(tagged.prompt).toContain('[Role promotion prompt]');
    // Most general first, most specific last: org, then team, then role, then the text.
    const order = [prompts.org, prompts.team, prompts.role, SEED_EVENT].map((part) =>
      tagged.prompt!.indexOf(part),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(tagged.prompt).toContain('a conversation event of kind USER_MESSAGE');
    expect(tagged.prompt).toContain('Occurred at: 2024-03-05T10:00:00.000Z');

    const orgOnly = await extractor.extract(
      input(SEED_EVENT, USER_MESSAGE, { prompts: { org: prompts.org } }),
    );
    expect(lastRequestText()).toBe(orgOnly.prompt);
    expect(orgOnly.prompt).toContain(prompts.org);
    expect(orgOnly.prompt).not.toContain(prompts.role);
    expect(orgOnly.prompt).not.toContain(prompts.team);
    expect(orgOnly.prompt).not.toContain('[Role promotion prompt]');
    expect(orgOnly.prompt).toContain('Occurred at: unknown');

    const roleOnly = await extractor.extract(
      input(SEED_EVENT, USER_MESSAGE, { prompts: { role: prompts.role } }),
    );
    expect(roleOnly.prompt).toContain(prompts.role);
    expect(roleOnly.prompt).not.toContain(prompts.team);
    expect(roleOnly.prompt).not.toContain(prompts.org);

    const none = await extractor.extract(input(SEED_EVENT, USER_MESSAGE));
    expect(none.prompt).toContain('Scope instructions: none given');
    expect(new Set([tagged.prompt, orgOnly.prompt, roleOnly.prompt, none.prompt]).size).toBe(4);
  });

  test('valid JSON is parsed into memories; the model is told the source', async () => {
    server.setMode({
      kind: 'ok',
      reply: (body) => {
        const text = (body.messages ?? []).map((message) => message.content).join('\n');
        // The fake model answers according to what it was told, as a real one would.
        if (!text.includes('a document (or a chunk of one)')) return '{"memories":[]}';
        return JSON.stringify({
          memories: [
            {
              content: 'Product X supports integrations with Slack and Microsoft Teams.',
              category: 'FACT',
              entities: [
                { name: 'Product X', type: 'PRODUCT' },
                { name: 'Slack', type: 'PRODUCT' },
                { name: 'Microsoft Teams', type: 'PRODUCT' },
              ],
            },
          ],
        });
      },
    });
    const extractor = createExtractor(llm);
    expect(extractor.id).toBe('llm:extract-model');
    const result = await extractor.extract(
      input('Product X supports integrations with Slack, Teams and email.', DOCUMENT, {
        prompts: { org: prompts.org },
      }),
    );
    expect(result.memories).toEqual([
      {
        content: 'Product X supports integrations with Slack and Microsoft Teams.',
        category: 'FACT',
        entities: [
          { name: 'Product X', type: 'PRODUCT' },
          { name: 'Slack', type: 'PRODUCT' },
          { name: 'Microsoft Teams', type: 'PRODUCT' },
        ],
      },
    ]);
    const body = server.requests.at(-1)!.body as ChatCompletionBody;
    expect(body.model).toBe('extract-model');
    expect(body.messages?.map((message) => message.role)).toEqual(['system', 'user']);
    expect(body.messages?.[0]?.content).toContain('"memories"');
  });

  test('JSON in ``` fences, or wrapped in a sentence, is accepted', async () => {
    const payload =
      '{"memories":[{"content":"Alice has a VIP 60-day return window.","category":"fact","entities":[{"name":"Alice","type":"person"}]}]}';
    const extractor = new LlmExtractor(llm);
    for (const reply of [
      `\`\`\`json\n${payload}\n\`\`\``,
      `\`\`\`\n${payload}\n\`\`\``,
      `Here are the memories:\n${payload}\nDone.`,
    ]) {
      server.setMode({ kind: 'ok', reply });
      const { memories } = await extractor.extract(input('Alice has a VIP 60-day return window.', NOTE));
      expect(memories).toEqual([
        {
          content: 'Alice has a VIP 60-day return window.',
          category: 'FACT',
          entities: [{ name: 'Alice', type: 'PERSON' }],
        },
      ]);
    }
  });

  test('malformed JSON and a missing memories array are UpstreamErrors with a clear message', async () => {
    const extractor = new LlmExtractor(llm);
    server.setMode({ kind: 'ok', reply: '{"memories": [ {"content": "unterminated' });
    const malformed = extractor.extract(input('Acme Corp negotiated 45-day returns.', NOTE));
    await expect(malformed).rejects.toBeInstanceOf(UpstreamError);
    await expect(malformed).rejects.toMatchObject({
      code: 'UPSTREAM_ERROR',
      message: expect.stringMatching(/LLM extractor: the model's answer is not valid JSON: \{"memories"/),
    });

    server.setMode({ kind: 'ok', reply: 'I could not find anything worth remembering.' });
    await expect(extractor.extract(input('Acme Corp negotiated 45-day returns.', NOTE))).rejects.toThrow(
      /not valid JSON/,
    );

    server.setMode({ kind: 'ok', reply: '{"facts":[{"content":"Acme Corp negotiated 45-day returns."}]}' });
    await expect(extractor.extract(input('Acme Corp negotiated 45-day returns.', NOTE))).rejects.toThrow(
      /has no "memories" array/,
    );

    server.setMode({ kind: 'ok', reply: '[{"content":"Acme Corp negotiated 45-day returns."}]' });
    await expect(
      extractor.extract(input('Acme Corp negotiated 45-day returns.', NOTE)),
    ).rejects.toBeInstanceOf(UpstreamError);
  });

  test('unknown categories and entity types are mapped as documented; invalid items are dropped', async () => {
    server.setMode({
      kind: 'ok',
      reply: JSON.stringify({
        memories: [
          // Synonyms are mapped.
          {
            content: 'Acme Corp negotiated 45-day returns.',
            category: 'Factual',
            entities: [{ name: 'Acme Corp', type: 'company' }],
          },
          // An unknown category falls back to the rule categorizer's reading of the content.
          {
            content: 'I prefer to use Rust for performance-critical paths.',
            category: 'OPINION',
            entities: [{ name: 'Rust', type: 'LANGUAGE' }],
          },
          {
            content: 'Does Product X work with Slack?',
            category: 42,
            entities: [
              { name: 'Slack', type: 'tool' },
              { name: 'slack', type: 'PRODUCT' },
              { type: 'PRODUCT' },
              'Slack',
            ],
          },
          // No content: dropped.
          { category: 'FACT', entities: [] },
          { content: '   ', category: 'FACT' },
          'not an object',
          { content: 'Refunds take ten business days.', category: 'fact', entities: 'Refunds' },
        ],
      }),
    });
    const { memories } = await new LlmExtractor(llm).extract(
      input('Several things were said.', USER_MESSAGE),
    );
    expect(memories).toEqual([
      {
        content: 'Acme Corp negotiated 45-day returns.',
        category: 'FACT',
        entities: [{ name: 'Acme Corp', type: 'ORGANIZATION' }],
      },
      {
        content: 'I prefer to use Rust for performance-critical paths.',
        category: 'PREFERENCE',
        entities: [{ name: 'Rust', type: 'TERM' }],
      },
      {
        content: 'Does Product X work with Slack?',
        category: 'EPISODE',
        entities: [{ name: 'Slack', type: 'PRODUCT' }],
      },
      { content: 'Refunds take ten business days.', category: 'FACT', entities: [] },
    ]);
  });

  test('an empty text sends no request', async () => {
    const before = server.requests.length;
    const result = await new LlmExtractor(llm).extract(input('  ', USER_MESSAGE, { prompts }));
    expect(result.memories).toEqual([]);
    expect(result.prompt).toContain(prompts.role);
    expect(server.requests.length).toBe(before);
  });

  test('upstream failures surface as UpstreamError', async () => {
    server.setMode({ kind: 'status', status: 500 });
    await expect(new LlmExtractor(llm).extract(input(SEED_EVENT, USER_MESSAGE))).rejects.toMatchObject({
      code: 'UPSTREAM_ERROR',
    });
    server.setMode({ kind: 'ok' });
  });

  test('without an LLM the factory gives the rule extractor', async () => {
    const extractor = createExtractor();
    expect(extractor).toBeInstanceOf(RuleExtractor);
    expect(extractor.id).toBe('rules');
    const { memories } = await extractor.extract(input(SEED_EVENT, USER_MESSAGE, { prompts }));
    expect(memories.map((memory) => memory.category)).toEqual(['PREFERENCE']);
  });
});
