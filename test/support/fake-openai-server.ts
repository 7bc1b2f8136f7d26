import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI REST protocol well enough for tests:
 *
 * - `POST /v1/chat/completions`: answers in the `chat.completion` shape.
 * - `POST /v1/embeddings`: answers in the embeddings `list` shape with deterministic vectors
 *   ({@link fakeEmbedding}), for a string or string[] `input`.
 *
 * The current {@link FakeOpenAiMode} decides how both endpoints answer. Anything else is a 404.
 *
 * @example
 * const server = await startFakeOpenAiServer();
 * const client = new OpenAiChatClient({ baseUrl: server.url, model: 'm', timeoutMs: 1000, maxRetries: 0 });
 * server.setMode({ kind: 'status', status: 429, times: 1 });
 * ...
 * await server.close();
 */

/** Body of a chat completions request, as the server parsed it. */
export interface ChatCompletionBody {
  model?: string;
  messages?: Array<{ role: string; content: string }>;
  [key: string]: unknown;
}

/**
 * How the server answers. `status`, `delay` and `malformed` apply to both endpoints; `ok.reply`
 * only to chat; `empty` gives chat an empty `content` and embeddings an empty `data` array.
 */
export type FakeOpenAiMode =
  /** 200 with a reply; by default `echo: <last user message>`. */
  | { kind: 'ok'; reply?: string | ((body: ChatCompletionBody) => string) }
  /**
   * Answers `status` with `body` (default: an OpenAI-style error JSON) and `headers` (e.g.
   * `{ 'retry-after': '1' }`), `times` times then switches back to `{ kind: 'ok' }`;
   * `times` undefined means every request.
   */
  | { kind: 'status'; status: number; body?: string; times?: number; headers?: Record<string, string> }
  /** A normal 200 answer sent after `ms` milliseconds. */
  | { kind: 'delay'; ms: number }
  /** 200 with a body that is not JSON. */
  | { kind: 'malformed' }
  /** 200 with `content: ''` (chat) or `data: []` (embeddings). */
  | { kind: 'empty' };

export interface FakeOpenAiServerOptions {
  /** Initial mode. @default { kind: 'ok' } */
  mode?: FakeOpenAiMode;
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401. */
  apiKey?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path with query, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
}

export interface FakeOpenAiServer {
  /** Base URL ending in `/v1`, e.g. `http://127.0.0.1:54321/v1`: pass it as `LlmConfig.baseUrl`. */
  readonly url: string;
  /** Every request received (any path), oldest first. */
  readonly requests: RecordedRequest[];
  setMode(mode: FakeOpenAiMode): void;
  /** Stops listening, cancels pending delayed answers and destroys open sockets. */
  close(): Promise<void>;
}

/** Deterministic unit-length vector for `text`: the same text always gets the same vector. */
export function fakeEmbedding(text: string, dimensions = 8): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (let i = 0; i + 1 < digest.length && values.length < dimensions; i += 2) {
      values.push(digest.readUInt16BE(i) / 32767.5 - 1);
    }
  }
  const norm = Math.hypot(...values) || 1;
  return values.map((value) => value / norm);
}

export async function startFakeOpenAiServer(
  options: FakeOpenAiServerOptions = {},
): Promise<FakeOpenAiServer> {
  let mode: FakeOpenAiMode = { kind: 'ok' };
  let failuresLeft: number | undefined;
  setMode(options.mode ?? { kind: 'ok' });
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => handle(req, res, raw))
      .catch(() => {
        if (!res.headersSent && !res.destroyed)
          sendJson(res, 500, errorBody('fake server failure', 'server_error'));
      });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    let body: unknown = raw;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // keep the raw text
    }
    const path = req.url ?? '/';
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });

    const route = req.method === 'POST' ? ROUTES[path.split('?')[0] ?? ''] : undefined;
    if (!route)
      return sendJson(
        res,
        404,
        errorBody(`Unknown request URL: ${req.method} ${path}`, 'invalid_request_error'),
      );
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendJson(
        res,
        401,
        errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'),
      );
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendJson(
        res,
        400,
        errorBody('We could not parse the JSON body of your request.', 'invalid_request_error'),
      );
    }

    const current = mode;
    switch (current.kind) {
      case 'status': {
        if (failuresLeft !== undefined) {
          failuresLeft -= 1;
          if (failuresLeft <= 0) setMode({ kind: 'ok' });
        }
        res.writeHead(current.status, { 'content-type': 'application/json', ...current.headers });
        res.end(
          current.body ?? JSON.stringify(errorBody(`Fake failure (HTTP ${current.status})`, 'server_error')),
        );
        return;
      }
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id": "chatcmpl-fake", "choices": [ this is not json');
        return;
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) route(res, body as Record<string, unknown>, { kind: 'ok' });
        }, current.ms);
        timers.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          timers.delete(timer);
        });
        return;
      }
      default:
        route(res, body as Record<string, unknown>, current);
    }
  }

  function setMode(next: FakeOpenAiMode): void {
    const times = next.kind === 'status' ? next.times : undefined;
    mode = times !== undefined && times <= 0 ? { kind: 'ok' } : next;
    failuresLeft = times;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    setMode,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
        sockets.clear();
      }),
  };
}

type Route = (
  res: ServerResponse,
  body: Record<string, unknown>,
  mode: Extract<FakeOpenAiMode, { kind: 'ok' | 'empty' }>,
) => void;

const ROUTES: Record<string, Route | undefined> = {
  '/v1/chat/completions': chatCompletions,
  '/v1/embeddings': embeddings,
};

function chatCompletions(
  res: ServerResponse,
  body: Record<string, unknown>,
  mode: Extract<FakeOpenAiMode, { kind: 'ok' | 'empty' }>,
): void {
  const { model, messages } = body;
  if (typeof model !== 'string' || !Array.isArray(messages)) {
    return sendJson(res, 400, errorBody("'model' and 'messages' are required", 'invalid_request_error'));
  }
  const request = body as ChatCompletionBody;
  let content = '';
  if (mode.kind === 'ok') {
    const reply = mode.reply;
    content = typeof reply === 'function' ? reply(request) : (reply ?? `echo: ${lastUserMessage(request)}`);
  }
  const promptTokens = countTokens(JSON.stringify(messages));
  const completionTokens = countTokens(content);
  sendJson(res, 200, {
    id: `chatcmpl-fake-${hash(JSON.stringify(body)).slice(0, 24)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  });
}

function embeddings(
  res: ServerResponse,
  body: Record<string, unknown>,
  mode: Extract<FakeOpenAiMode, { kind: 'ok' | 'empty' }>,
): void {
  const { model, input, dimensions } = body;
  const inputs = typeof input === 'string' ? [input] : input;
  if (
    typeof model !== 'string' ||
    !Array.isArray(inputs) ||
    !inputs.every((item) => typeof item === 'string')
  ) {
    return sendJson(
      res,
      400,
      errorBody("'model' and 'input' (string or string[]) are required", 'invalid_request_error'),
    );
  }
  const size =
    typeof dimensions === 'number' && Number.isInteger(dimensions) && dimensions > 0 ? dimensions : 8;
  const tokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
  sendJson(res, 200, {
    object: 'list',
    data:
      mode.kind === 'empty'
        ? []
        : inputs.map((text, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(text, size) })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function lastUserMessage(body: ChatCompletionBody): string {
  const users = (body.messages ?? []).filter((message) => message?.role === 'user');
  const last = users[users.length - 1];
  return typeof last?.content === 'string' ? last.content : '';
}

function errorBody(message: string, type: string, code: string | null = null): unknown {
  return { error: { message, type, param: null, code } };
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
