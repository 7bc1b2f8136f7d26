import { ConfigError } from '../../common/config';
import { DomainError, RateLimitedError, UpstreamError } from '../../common/errors';
import type { Embedder } from '../../subgraphs/memory/embedding/embedder';
import { createEmbedder } from '../../subgraphs/memory/embedding/index';
import {
  DEFAULT_MAX_CHARS,
  LocalSentenceEmbedder,
  LruCache,
  prepareText,
} from '../../subgraphs/memory/embedding/local-sentence-embedder';
import { OpenAiEmbedder, type OpenAiEmbedderConfig } from '../../subgraphs/memory/embedding/openai-embedder';
import { fakeEmbedding, startFakeOpenAiServer, type FakeOpenAiServer } from '../support/fake-openai-server';

/** What the shared contract needs to know about one adapter under test. */
interface Harness {
  embedder: Embedder;
  dimensions: number;
  /** Most texts the adapter sends to its model in one call. */
  batchSize: number;
  /** Model calls (local) or HTTP requests (remote) made so far. */
  calls(): number;
  /** Forgets cached vectors, so the next call reaches the model again. */
  forget(): void;
  /** Largest difference allowed between two vectors of the same text from different batches. */
  tolerance: number;
}

// Float32Arrays cloned from the worker thread come from Node's realm, not jest's VM: no instanceof.
function isFloat32Array(value: unknown): boolean {
  return Object.prototype.toString.call(value) === '[object Float32Array]';
}

function norm(vector: Float32Array): number {
  let sum = 0;
  for (const value of vector) sum += value * value;
  return Math.sqrt(sum);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot / (norm(a) * norm(b));
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function embedOne(embedder: Embedder, text: string): Promise<Float32Array> {
  const [vector] = await embedder.embed([text]);
  return vector!;
}

/** Runs `promise`, which must reject with a DomainError, and returns the error. */
async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

const SENTENCES = [
  'The quarterly budget review moved to Thursday afternoon.',
  'My sister prefers green tea over coffee in the morning.',
  'Deploy the billing service after the database migration finishes.',
  'We booked a hotel near the old harbour in Lisbon.',
  'The cat knocked the plant off the windowsill again.',
];

/** The Embedder contract, run against every adapter. */
function describeEmbedderContract(harness: () => Harness): void {
  describe('Embedder contract', () => {
    let h: Harness;
    beforeAll(() => {
      h = harness();
    });

    it('reports its dimensions and a model id', () => {
      expect(h.embedder.dimensions).toBe(h.dimensions);
      expect(h.embedder.modelId).toMatch(/\S/);
    });

    it('returns one L2-normalised vector of `dimensions` floats per input, in input order', async () => {
      h.forget();
      const vectors = await h.embedder.embed(SENTENCES);

      expect(vectors).toHaveLength(SENTENCES.length);
      for (const vector of vectors) {
        expect(isFloat32Array(vector)).toBe(true);
        expect(vector).toHaveLength(h.dimensions);
        expect(norm(vector)).toBeCloseTo(1, 5);
      }
      // Each text again on its own, last first: vector i must still belong to text i.
      h.forget();
      for (let i = SENTENCES.length - 1; i >= 0; i--) {
        const alone = await embedOne(h.embedder, SENTENCES[i]!);
        expect(maxDifference(vectors[i]!, alone)).toBeLessThan(h.tolerance);
        if (i > 0) expect(maxDifference(vectors[i - 1]!, alone)).toBeGreaterThan(h.tolerance);
      }
    });

    it('is deterministic: the same text gets the same vector, within a call and across calls', async () => {
      h.forget();
      const [first, other, again] = await h.embedder.embed([
        'remember the milk',
        'forget it',
        'remember the milk',
      ]);
      h.forget();
      const later = await embedOne(h.embedder, 'remember the milk');

      expect(maxDifference(first!, again!)).toBe(0);
      expect(maxDifference(first!, later)).toBeLessThan(h.tolerance);
      expect(maxDifference(first!, other!)).toBeGreaterThan(0.01);
    });

    it('returns [] for no texts without calling the model', async () => {
      const before = h.calls();

      await expect(h.embedder.embed([])).resolves.toEqual([]);
      expect(h.calls()).toBe(before);
    });

    it('embeds a large batch (100 texts), splitting it into model calls of at most batchSize', async () => {
      const texts = Array.from(
        { length: 100 },
        (_, i) => `Note ${i}: the user mentioned item number ${i * 7} on their shopping list.`,
      );
      h.forget();
      const before = h.calls();
      const vectors = await h.embedder.embed(texts);

      expect(h.calls() - before).toBe(Math.ceil(100 / h.batchSize));
      expect(vectors).toHaveLength(100);
      for (const vector of vectors) {
        expect(vector).toHaveLength(h.dimensions);
        expect(norm(vector)).toBeCloseTo(1, 5);
      }
      h.forget();
      for (const i of [0, 37, 99]) {
        expect(maxDifference(vectors[i]!, await embedOne(h.embedder, texts[i]!))).toBeLessThan(h.tolerance);
      }
    });

    it('keeps the results of concurrent calls apart', async () => {
      const shared = 'a text that several callers embed at the same time';
      const groups = SENTENCES.map((sentence, i) => [sentence, shared, `caller ${i} asks about ${sentence}`]);
      h.forget();
      const results = await Promise.all(groups.map((group) => h.embedder.embed(group)));

      h.forget();
      for (let g = 0; g < groups.length; g++) {
        expect(results[g]).toHaveLength(3);
        for (let i = 0; i < 3; i++) {
          const expected = await embedOne(h.embedder, groups[g]![i]!);
          expect(maxDifference(results[g]![i]!, expected)).toBeLessThan(h.tolerance);
        }
        expect(maxDifference(results[g]![1]!, results[0]![1]!)).toBeLessThan(h.tolerance);
      }
    });
  });
}

describe('LocalSentenceEmbedder', () => {
  let embedder: LocalSentenceEmbedder;

  beforeAll(async () => {
    // The local branch of the factory; the model loads once for this whole describe.
    const created = await createEmbedder({ timeoutMs: 1_000, maxRetries: 0 });
    expect(created).toBeInstanceOf(LocalSentenceEmbedder);
    embedder = created as LocalSentenceEmbedder;
  });
  afterAll(() => embedder?.close());

  describeEmbedderContract(() => ({
    embedder,
    dimensions: 512,
    batchSize: 32,
    calls: () => embedder.stats().modelCalls,
    forget: () => embedder.clearCache(),
    // The same text in different batches differs by float rounding only (~4e-8 measured).
    tolerance: 1e-5,
  }));

  it('is USE-lite, 512-d, loaded once', () => {
    expect(embedder.modelId).toBe('use-lite-512');
    expect(embedder.stats()).toMatchObject({ workerStarts: 1, workerRunning: true });
    expect(embedder.stats().lastLoadMs).toBeGreaterThan(0);
  });

  it('puts sentences about the same thing closer than unrelated ones', async () => {
    const [rust, favourite, refund] = await embedder.embed([
      'I like Rust for fast code',
      'Rust is my favourite language for performance',
      'The refund policy allows returns within 30 days',
    ]);

    expect(cosine(rust!, favourite!)).toBeGreaterThan(cosine(rust!, refund!) + 0.1);
  });

  it('answers a repeated text from the cache without calling the worker', async () => {
    embedder.clearCache();
    const query = 'What is my favourite programming language?';
    const first = await embedOne(embedder, query);
    const { modelCalls, modelTexts, cacheHits } = embedder.stats();
    first[0] = 42; // callers get copies: this must not reach the cache

    const again = await embedder.embed([query, query]);

    expect(embedder.stats()).toMatchObject({ modelCalls, modelTexts, cacheHits: cacheHits + 2 });
    expect(again[0]![0]).not.toBe(42);
    expect(norm(again[0]!)).toBeCloseTo(1, 5);
    expect(maxDifference(again[0]!, again[1]!)).toBe(0);
  });

  it('embeds a text once when concurrent calls ask for it', async () => {
    embedder.clearCache();
    const before = embedder.stats().modelTexts;

    await Promise.all([
      embedder.embed(['shared pending text', 'only in the first call']),
      embedder.embed(['shared pending text']),
    ]);

    expect(embedder.stats().modelTexts - before).toBe(2);
  });

  it('normalises whitespace and cuts texts to maxChars before embedding and caching', async () => {
    const long = 'abcd '.repeat(1_000); // 5,000 characters
    expect(prepareText(long)).toBe(long.slice(0, DEFAULT_MAX_CHARS - 1));
    expect(prepareText('  tea\n\n with\tlemon  ')).toBe('tea with lemon');
    expect(prepareText('x'.repeat(10) + '😀', 11)).toBe('x'.repeat(10)); // no half surrogate pair
    expect(prepareText(' \n\t ')).toBe(' ');

    embedder.clearCache();
    const [whole, spaced] = await embedder.embed([long, '  tea\n\n with\tlemon  ']);
    const { modelCalls } = embedder.stats();
    const [head, plain] = await embedder.embed([long.slice(0, DEFAULT_MAX_CHARS - 1), 'tea with lemon']);

    expect(embedder.stats().modelCalls).toBe(modelCalls);
    expect(maxDifference(whole!, head!)).toBe(0);
    expect(maxDifference(spaced!, plain!)).toBe(0);
  });

  it('embeds blank texts without losing or shifting vectors', async () => {
    // The model drops the row of an empty text that ends a batch: every text must keep its vector.
    embedder.clearCache();
    const vectors = await embedder.embed(['hello', 'world', '', ' \n\t ']);
    embedder.clearCache();
    const hello = await embedOne(embedder, 'hello');
    const world = await embedOne(embedder, 'world');

    expect(vectors).toHaveLength(4);
    expect(maxDifference(vectors[0]!, hello)).toBeLessThan(1e-5);
    expect(maxDifference(vectors[1]!, world)).toBeLessThan(1e-5);
    expect(maxDifference(vectors[2]!, vectors[3]!)).toBe(0);
    expect(norm(vectors[2]!)).toBeCloseTo(1, 5);
  });

  it('keeps the event loop free while the model works', async () => {
    embedder.clearCache();
    const chunks = Array.from(
      { length: 16 },
      (_, i) =>
        `Chunk ${i}. ` +
        'The project review covered the budget, the hiring plan, the travel schedule for the spring conference, '.repeat(
          6,
        ),
    );
    let last = performance.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    try {
      await embedder.embed(chunks);
    } finally {
      clearInterval(ticker);
    }
    const took = performance.now() - started;
    longestGap = Math.max(longestGap, performance.now() - last); // a timer that never fired counts too

    // The batch takes ~1 s of model time; on the caller's thread it would stall the timer that long.
    expect(took).toBeGreaterThan(300);
    expect(longestGap).toBeLessThan(150);
  });

  it('loads the model once for concurrent first calls, and close() ends the worker', async () => {
    const lazy = new LocalSentenceEmbedder({ cacheSize: 0 });
    try {
      expect(lazy.stats()).toMatchObject({ workerStarts: 0, workerRunning: false });

      const [a, b] = await Promise.all([lazy.embed(['first']), lazy.embed(['second']), lazy.load()]);

      expect(a).toHaveLength(1);
      expect(b).toHaveLength(1);
      expect(lazy.stats()).toMatchObject({ workerStarts: 1, workerRunning: true, cachedTexts: 0 });
      await lazy.embed(['first']);
      expect(lazy.stats().modelCalls).toBe(3); // cacheSize 0: no cache
    } finally {
      await Promise.all([lazy.close(), lazy.close()]);
    }

    expect(lazy.stats().workerRunning).toBe(false);
    await expect(lazy.embed(['after close'])).rejects.toThrow('closed');
    await expect(lazy.close()).resolves.toBeUndefined();
  });

  it('rejects calls still waiting when closed', async () => {
    const closing = new LocalSentenceEmbedder();
    const waiting = closing.embed(['never embedded']);
    const result = waiting.then(
      () => 'resolved',
      (error: Error) => error.message,
    );

    await closing.close();

    await expect(result).resolves.toMatch(/closed/);
    expect(closing.stats().workerRunning).toBe(false);
  });
});

describe('LruCache', () => {
  it('evicts the least recently used entry beyond its capacity', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);

    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });

  it('stores nothing with capacity 0', () => {
    const cache = new LruCache<string, number>(0);
    cache.set('a', 1);

    expect(cache.size).toBe(0);
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('OpenAiEmbedder against the fake OpenAI server', () => {
  const API_KEY = 'sk-test-SECRET-embeddings-0123456789';
  const MODEL = 'fake-embed';
  let server: FakeOpenAiServer;
  let embedder: OpenAiEmbedder;

  function create(overrides: Partial<OpenAiEmbedderConfig> = {}): OpenAiEmbedder {
    return new OpenAiEmbedder(
      {
        baseUrl: server.url,
        apiKey: API_KEY,
        model: MODEL,
        dimensions: 8, // what the fake server answers when no dimensions are asked for
        timeoutMs: 2_000,
        maxRetries: 2,
        ...overrides,
      },
      { retryBaseDelayMs: 5 },
    );
  }
  const embeddingRequests = () => server.requests.filter((request) => request.path === '/v1/embeddings');

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ apiKey: API_KEY });
    embedder = create();
  });
  afterAll(async () => {
    await embedder?.close();
    await server?.close();
  });
  beforeEach(() => {
    server.setMode({ kind: 'ok' });
    server.requests.length = 0;
  });

  describeEmbedderContract(() => ({
    embedder,
    dimensions: 8,
    batchSize: 96,
    calls: () => embeddingRequests().length,
    forget: () => undefined,
    tolerance: 1e-6,
  }));

  it('POSTs the embeddings request shape with the bearer key and returns the endpoint’s vectors', async () => {
    const vectors = await embedder.embed(['alpha', 'beta']);

    expect(embedder.modelId).toBe('openai:fake-embed');
    expect(embeddingRequests()).toHaveLength(1);
    const [request] = embeddingRequests();
    expect(request?.method).toBe('POST');
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.body).toEqual({ model: MODEL, input: ['alpha', 'beta'], encoding_format: 'float' });
    expect(maxDifference(vectors[0]!, Float32Array.from(fakeEmbedding('alpha')))).toBeLessThan(1e-6);
    expect(maxDifference(vectors[1]!, Float32Array.from(fakeEmbedding('beta')))).toBeLessThan(1e-6);
  });

  it('splits inputs into requests of batchSize texts, in order', async () => {
    const texts = ['t0', 't1', 't2', 't3', 't4'];
    const vectors = await create({ batchSize: 2 }).embed(texts);

    expect(embeddingRequests().map((request) => (request.body as { input: string[] }).input)).toEqual([
      ['t0', 't1'],
      ['t2', 't3'],
      ['t4'],
    ]);
    texts.forEach((text, i) =>
      expect(maxDifference(vectors[i]!, Float32Array.from(fakeEmbedding(text)))).toBeLessThan(1e-6),
    );
  });

  it('re-orders vectors by index and normalises them', async () => {
    const body = JSON.stringify({
      object: 'list',
      data: [
        { object: 'embedding', index: 1, embedding: [0, 0, 0, 0, 0, 0, 0, 2] },
        { object: 'embedding', index: 0, embedding: [3, 4, 0, 0, 0, 0, 0, 0] },
      ],
    });
    server.setMode({ kind: 'status', status: 200, body });

    const [first, second] = await embedder.embed(['first', 'second']);

    expect(Array.from(first!)).toEqual([0.6, 0.8, 0, 0, 0, 0, 0, 0].map(Math.fround));
    expect(Array.from(second!)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('retries a 429 and succeeds', async () => {
    server.setMode({ kind: 'status', status: 429, times: 1 });

    const [vector] = await embedder.embed(['patient']);

    expect(maxDifference(vector!, Float32Array.from(fakeEmbedding('patient')))).toBeLessThan(1e-6);
    expect(embeddingRequests()).toHaveLength(2);
  });

  it('throws RateLimitedError when every attempt is rate-limited', async () => {
    server.setMode({ kind: 'status', status: 429 });

    const error = await failure(embedder.embed(['busy']));

    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.message).toBe('Embeddings endpoint rate-limited the request (HTTP 429) after 3 attempts');
    expect(embeddingRequests()).toHaveLength(3);
  });

  it('throws UpstreamError on a 500 after retrying, without the API key in the message', async () => {
    server.setMode({ kind: 'status', status: 500, body: `crashed for Bearer ${API_KEY}` });

    const error = await failure(embedder.embed(['boom']));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.message).toContain('Embeddings endpoint answered HTTP 500 after 3 attempts');
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain(API_KEY);
    expect(embeddingRequests()).toHaveLength(3);
  });

  it('throws UpstreamError, without retrying, when the vectors do not have the configured length', async () => {
    const error = await failure(create({ dimensions: 16 }).embed(['short']));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.message).toContain('8-dimension vector');
    expect(error.message).toContain('16 are configured');
    expect(embeddingRequests()).toHaveLength(1);
  });

  it('throws UpstreamError when the number of vectors does not match the inputs', async () => {
    const one = JSON.stringify({ object: 'list', data: [{ index: 0, embedding: fakeEmbedding('a') }] });
    server.setMode({ kind: 'status', status: 200, body: one });
    const tooFew = await failure(embedder.embed(['a', 'b']));
    server.setMode({ kind: 'empty' });
    const none = await failure(embedder.embed(['a']));

    expect(tooFew).toBeInstanceOf(UpstreamError);
    expect(tooFew.message).toBe('Embeddings endpoint returned 1 vector(s) for 2 input(s)');
    expect(none.message).toBe('Embeddings endpoint returned 0 vector(s) for 1 input(s)');
  });

  it('throws UpstreamError on malformed answers: not JSON, duplicate index, non-numbers, zero vector', async () => {
    const answers = [
      undefined, // the fake server's malformed mode
      {
        data: [
          { index: 0, embedding: fakeEmbedding('a') },
          { index: 0, embedding: fakeEmbedding('b') },
        ],
      },
      {
        data: [
          { index: 0, embedding: ['x', 0, 0, 0, 0, 0, 0, 0] },
          { index: 1, embedding: fakeEmbedding('b') },
        ],
      },
      {
        data: [
          { index: 0, embedding: [0, 0, 0, 0, 0, 0, 0, 0] },
          { index: 1, embedding: fakeEmbedding('b') },
        ],
      },
    ];
    const messages: string[] = [];
    for (const answer of answers) {
      server.setMode(
        answer ? { kind: 'status', status: 200, body: JSON.stringify(answer) } : { kind: 'malformed' },
      );
      const error = await failure(embedder.embed(['a', 'b']));
      expect(error).toBeInstanceOf(UpstreamError);
      messages.push(error.message);
    }

    expect(messages[0]).toContain('malformed JSON (not JSON)');
    expect(messages[1]).toContain('index 0 appears twice');
    expect(messages[2]).toContain('non-numeric value');
    expect(messages[3]).toContain('all-zero vector');
    expect(embeddingRequests()).toHaveLength(answers.length);
  });

  it('times out a slow answer as UpstreamError', async () => {
    server.setMode({ kind: 'delay', ms: 1_000 });

    const error = await failure(create({ timeoutMs: 50, maxRetries: 1 }).embed(['slow']));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.message).toBe('Embeddings request timed out after 50 ms (2 attempts)');
  });

  it('is chosen by createEmbedder when a base URL is configured, which then needs a model and dimensions', async () => {
    const remote = await createEmbedder({
      baseUrl: server.url,
      apiKey: API_KEY,
      model: MODEL,
      dimensions: 8,
      timeoutMs: 1_000,
      maxRetries: 0,
    });
    expect(remote).toBeInstanceOf(OpenAiEmbedder);
    expect(remote.modelId).toBe('openai:fake-embed');
    expect(await remote.embed(['via the factory'])).toHaveLength(1);

    await expect(createEmbedder({ baseUrl: server.url, timeoutMs: 1_000, maxRetries: 0 })).rejects.toThrow(
      ConfigError,
    );
    await expect(
      createEmbedder({ baseUrl: server.url, model: MODEL, dimensions: 0, timeoutMs: 1_000, maxRetries: 0 }),
    ).rejects.toThrow(/EMBEDDINGS_DIMENSIONS/);
  });
});
