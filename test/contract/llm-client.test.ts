import type { LlmConfig } from '../../common/config';
import { DomainError, RateLimitedError, UpstreamError } from '../../common/errors';
import { OpenAiChatClient } from '../../common/llm/openai-chat-client';
import { fakeEmbedding, startFakeOpenAiServer, type FakeOpenAiServer } from '../support/fake-openai-server';

const API_KEY = 'sk-test-SECRET-0123456789abcdef';
const MODEL = 'fake-gpt';

describe('OpenAiChatClient against the fake OpenAI server', () => {
  let server: FakeOpenAiServer;

  beforeAll(async () => {
    server = await startFakeOpenAiServer();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.setMode({ kind: 'ok' });
    server.requests.length = 0;
  });

  function client(overrides: Partial<LlmConfig> = {}): OpenAiChatClient {
    return new OpenAiChatClient(
      { baseUrl: server.url, apiKey: API_KEY, model: MODEL, timeoutMs: 2_000, maxRetries: 2, ...overrides },
      { retryBaseDelayMs: 5 },
    );
  }

  /** Runs `promise`, which must reject, and returns the error. */
  async function failure(promise: Promise<unknown>): Promise<DomainError> {
    const error = await promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }

  const hello = { messages: [{ role: 'user' as const, content: 'hello there' }] };

  it('POSTs the OpenAI chat completions request shape with the bearer key', async () => {
    await client().chat({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
      maxTokens: 64,
    });

    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.headers['content-type']).toMatch(/^application\/json/);
    expect(request?.body).toEqual({
      model: MODEL,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
      temperature: 0,
      max_tokens: 64,
    });
  });

  it('sends no Authorization header without a key, omits max_tokens and tolerates a trailing slash', async () => {
    await client({ apiKey: undefined, baseUrl: `${server.url}/` }).chat({ ...hello, temperature: 0.7 });

    const [request] = server.requests;
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toEqual({ model: MODEL, messages: hello.messages, temperature: 0.7 });
  });

  it('returns the trimmed reply and the model the endpoint reports', async () => {
    server.setMode({ kind: 'ok', reply: (body) => `  ${body.messages?.length} message(s)\n` });

    await expect(client().chat(hello)).resolves.toEqual({ content: '1 message(s)', model: MODEL });
  });

  it('echoes the last user message by default', async () => {
    const result = await client().chat({
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second' },
      ],
    });

    expect(result.content).toBe('echo: second');
  });

  it('falls back to the configured model when the answer has none', async () => {
    const body = JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'hi' } }] });
    server.setMode({ kind: 'status', status: 200, body });

    await expect(client({ model: 'configured' }).chat(hello)).resolves.toEqual({
      content: 'hi',
      model: 'configured',
    });
  });

  it('retries a 429 and succeeds', async () => {
    server.setMode({ kind: 'status', status: 429, times: 1 });

    await expect(client().chat(hello)).resolves.toEqual({ content: 'echo: hello there', model: MODEL });
    expect(server.requests).toHaveLength(2);
  });

  it('retries a 503 and succeeds', async () => {
    server.setMode({ kind: 'status', status: 503, times: 2 });

    await expect(client().chat(hello)).resolves.toMatchObject({ content: 'echo: hello there' });
    expect(server.requests).toHaveLength(3);
  });

  it('honours a numeric Retry-After header', async () => {
    server.setMode({ kind: 'status', status: 429, times: 1, headers: { 'retry-after': '0.3' } });

    const started = Date.now();
    await client().chat(hello);

    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(server.requests).toHaveLength(2);
  });

  it('throws RateLimitedError when every attempt is rate-limited', async () => {
    server.setMode({ kind: 'status', status: 429 });

    const error = await failure(client({ maxRetries: 2 }).chat(hello));

    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.message).toBe('LLM endpoint rate-limited the request (HTTP 429) after 3 attempts');
    expect(server.requests).toHaveLength(3);
  });

  it('throws UpstreamError naming the status and quoting the body when every attempt is a 500', async () => {
    server.setMode({ kind: 'status', status: 500, body: 'model crashed' });

    const error = await failure(client({ maxRetries: 1 }).chat(hello));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.message).toContain('LLM endpoint answered HTTP 500');
    expect(error.message).toContain('model crashed');
    expect(server.requests).toHaveLength(2);
  });

  it('quotes at most 200 characters of an error body', async () => {
    server.setMode({ kind: 'status', status: 502, body: 'x'.repeat(5_000) });

    const error = await failure(client({ maxRetries: 0 }).chat(hello));

    const quoted = error.message.match(/x+/)?.[0] ?? '';
    expect(quoted.length).toBeGreaterThan(0);
    expect(quoted.length).toBeLessThanOrEqual(200);
    expect(error.message.length).toBeLessThan(300);
  });

  it('times out a slow answer', async () => {
    server.setMode({ kind: 'delay', ms: 1_000 });

    const started = Date.now();
    const error = await failure(client({ timeoutMs: 100, maxRetries: 0 }).chat(hello));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.message).toContain('timed out after 100 ms');
    expect(Date.now() - started).toBeLessThan(900);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a timeout', async () => {
    server.setMode({ kind: 'delay', ms: 1_000 });

    const error = await failure(client({ timeoutMs: 50, maxRetries: 1 }).chat(hello));

    expect(error.message).toContain('timed out');
    expect(server.requests).toHaveLength(2);
  });

  it('throws UpstreamError on a body that is not JSON, without retrying', async () => {
    server.setMode({ kind: 'malformed' });

    const error = await failure(client().chat(hello));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.message).toContain('LLM endpoint returned malformed JSON');
    expect(server.requests).toHaveLength(1);
  });

  it('throws UpstreamError on JSON of an unexpected shape', async () => {
    server.setMode({ kind: 'status', status: 200, body: JSON.stringify({ choices: [] }) });

    const error = await failure(client().chat(hello));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.message).toContain('malformed JSON');
  });

  it('throws UpstreamError on an empty answer', async () => {
    server.setMode({ kind: 'empty' });

    const error = await failure(client().chat(hello));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.message).toMatch(/empty answer/);
  });

  it('does not retry a 400', async () => {
    server.setMode({ kind: 'status', status: 400 });

    const error = await failure(client({ maxRetries: 3 }).chat(hello));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.message).toContain('HTTP 400');
    expect(server.requests).toHaveLength(1);
  });

  it('never puts the API key in an error message, even when the endpoint echoes it', async () => {
    const messages: string[] = [];
    const modes = [
      { kind: 'status', status: 401, body: `{"error":{"message":"Incorrect API key provided: ${API_KEY}"}}` },
      { kind: 'status', status: 500, body: `Authorization: Bearer ${API_KEY}` },
      { kind: 'status', status: 429 },
      { kind: 'status', status: 200, body: `not json ${API_KEY}` },
      { kind: 'malformed' },
      { kind: 'empty' },
      { kind: 'delay', ms: 500 },
    ] as const;
    for (const mode of modes) {
      server.setMode(mode);
      messages.push((await failure(client({ timeoutMs: 50, maxRetries: 1 }).chat(hello))).message);
    }

    expect(messages).toHaveLength(modes.length);
    expect(messages[0]).toContain('[redacted]');
    for (const message of messages) expect(message).not.toContain(API_KEY);
  });

  it('reports an unreachable endpoint as UpstreamError after retrying', async () => {
    const gone = await startFakeOpenAiServer();
    await gone.close();

    const error = await failure(
      new OpenAiChatClient(
        { baseUrl: gone.url, apiKey: API_KEY, model: MODEL, timeoutMs: 1_000, maxRetries: 1 },
        { retryBaseDelayMs: 5 },
      ).chat(hello),
    );

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.message).toMatch(/could not be reached \(ECONNREFUSED\) after 2 attempts/);
    expect(error.message).not.toContain(API_KEY);
  });
});

describe('fake OpenAI server embeddings endpoint', () => {
  let server: FakeOpenAiServer;

  beforeAll(async () => {
    server = await startFakeOpenAiServer();
  });
  afterAll(async () => {
    await server.close();
  });

  interface EmbeddingsAnswer {
    object?: string;
    model?: string;
    data: Array<{ object: string; index: number; embedding: number[] }>;
    error?: { type: string };
  }

  async function embed(input: unknown): Promise<{ status: number; json: EmbeddingsAnswer }> {
    const response = await fetch(`${server.url}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-embed', input }),
    });
    return { status: response.status, json: (await response.json()) as EmbeddingsAnswer };
  }

  it('answers deterministic 8-dimension unit vectors for string and string[] input', async () => {
    const single = await embed('alpha');
    const batch = await embed(['alpha', 'beta']);

    expect(single.status).toBe(200);
    expect(single.json).toMatchObject({
      object: 'list',
      model: 'fake-embed',
      data: [{ object: 'embedding', index: 0 }],
    });
    const vector = single.json.data[0]?.embedding ?? [];
    expect(vector).toHaveLength(8);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 6);
    expect(vector).toEqual(fakeEmbedding('alpha'));
    expect(batch.json.data.map((item) => item.embedding)).toEqual([
      fakeEmbedding('alpha'),
      fakeEmbedding('beta'),
    ]);
    expect(fakeEmbedding('alpha')).not.toEqual(fakeEmbedding('beta'));
  });

  it('rejects a request without input', async () => {
    const { status, json } = await embed(42);

    expect(status).toBe(400);
    expect(json.error?.type).toBe('invalid_request_error');
  });
});
