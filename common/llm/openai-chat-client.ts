import type { LlmConfig } from '../config';
import { DomainError, RateLimitedError, UpstreamError } from '../errors';
import type { ChatRequest, ChatResult, LlmClient } from './llm-client';

export interface OpenAiChatClientOptions {
  /** First backoff delay between attempts; doubles on each retry. @default 250 */
  retryBaseDelayMs?: number;
}

/** Longest wait a `Retry-After` header may impose before the next attempt. */
const MAX_RETRY_AFTER_MS = 5_000;
/** Cap on the exponential backoff itself. */
const MAX_BACKOFF_MS = 10_000;
/** How much of an error body is quoted in an error message. */
const BODY_SNIPPET_CHARS = 200;

/** Outcome of one failed attempt: whether to try again and how to report it if not. */
interface AttemptFailure {
  retryable: boolean;
  /** Delay the endpoint asked for (`Retry-After`), already capped. */
  retryAfterMs?: number;
  /** Builds the error to throw once this is the last attempt. */
  toError(attempts: number): DomainError;
}

class AttemptFailed extends Error {
  constructor(readonly failure: AttemptFailure) {
    super('attempt failed');
  }
}

/**
 * {@link LlmClient} for any OpenAI-compatible `POST /chat/completions` endpoint (OpenAI, Ollama,
 * vLLM, LM Studio, ...), built on Node's global `fetch`.
 *
 * - Each attempt is bounded by `config.timeoutMs` (an `AbortController`).
 * - Timeouts, network errors, HTTP 429 and HTTP 5xx are retried up to `config.maxRetries` times
 *   with exponential backoff (`retryBaseDelayMs * 2^n`); a numeric `Retry-After` header is
 *   honoured, capped at 5 s. Other 4xx answers, malformed JSON and empty answers fail at once.
 * - Failures throw `RateLimitedError` (429 after every retry) or `UpstreamError` (everything
 *   else). Messages never contain the API key.
 *
 * There is no `close()`: `fetch` uses Node's process-wide undici dispatcher, whose idle
 * keep-alive sockets do not hold the process open, so this client owns nothing to release.
 */
export class OpenAiChatClient implements LlmClient {
  readonly model: string;
  private readonly endpoint: string;
  private readonly retryBaseDelayMs: number;

  constructor(
    private readonly config: LlmConfig,
    options: OpenAiChatClientOptions = {},
  ) {
    this.model = config.model;
    this.endpoint = `${config.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const body = JSON.stringify({
      model: this.config.model,
      messages: request.messages,
      temperature: request.temperature ?? 0,
      ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
    });
    const maxAttempts = Math.max(0, Math.floor(this.config.maxRetries)) + 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(body);
      } catch (error) {
        if (!(error instanceof AttemptFailed)) throw error;
        const { failure } = error;
        if (!failure.retryable || attempt >= maxAttempts) {
          const domainError = failure.toError(attempt);
          domainError.message = this.redact(domainError.message);
          throw domainError;
        }
        const backoff = Math.min(this.retryBaseDelayMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
        await sleep(failure.retryAfterMs ?? backoff);
      }
    }
  }

  /** One HTTP round trip; resolves with the result or rejects with {@link AttemptFailed}. */
  private async attempt(body: string): Promise<ChatResult> {
    const timeoutMs = this.config.timeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let status: number;
    let retryAfterHeader: string | null;
    let text: string;
    try {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
      };
      if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
      // The timer also covers reading the body, so a server that stalls mid-answer times out too.
      const response = await fetch(this.endpoint, {
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
      });
      status = response.status;
      retryAfterHeader = response.headers.get('retry-after');
      text = await response.text();
    } catch (error) {
      if (controller.signal.aborted) {
        throw new AttemptFailed({
          retryable: true,
          toError: (attempts) =>
            new UpstreamError(`LLM request timed out after ${timeoutMs} ms (${describeAttempts(attempts)})`),
        });
      }
      const reason = describeNetworkError(error);
      throw new AttemptFailed({
        retryable: true,
        toError: (attempts) =>
          new UpstreamError(
            `LLM endpoint ${this.endpoint} could not be reached (${reason}) after ${describeAttempts(attempts)}`,
          ),
      });
    } finally {
      clearTimeout(timer);
    }

    if (status === 429) {
      throw new AttemptFailed({
        retryable: true,
        retryAfterMs: parseRetryAfter(retryAfterHeader),
        toError: (attempts) =>
          new RateLimitedError(
            `LLM endpoint rate-limited the request (HTTP 429) after ${describeAttempts(attempts)}`,
          ),
      });
    }
    if (status >= 500) {
      throw new AttemptFailed({
        retryable: true,
        retryAfterMs: parseRetryAfter(retryAfterHeader),
        toError: (attempts) =>
          new UpstreamError(
            `LLM endpoint answered HTTP ${status} after ${describeAttempts(attempts)}: ${snippet(text)}`,
          ),
      });
    }
    if (status < 200 || status >= 300) {
      throw new AttemptFailed({
        retryable: false,
        toError: () => new UpstreamError(`LLM endpoint answered HTTP ${status}: ${snippet(text)}`),
      });
    }
    return this.parse(text);
  }

  private parse(text: string): ChatResult {
    const malformed = (why: string): AttemptFailed =>
      new AttemptFailed({
        retryable: false,
        toError: () => new UpstreamError(`LLM endpoint returned malformed JSON (${why}): ${snippet(text)}`),
      });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw malformed('not JSON');
    }
    if (!isRecord(json) || !Array.isArray(json.choices)) throw malformed('no choices array');
    const choice: unknown = json.choices[0];
    if (!isRecord(choice) || !isRecord(choice.message)) throw malformed('no choices[0].message');
    const content = choice.message.content;
    if (content !== null && content !== undefined && typeof content !== 'string') {
      throw malformed('choices[0].message.content is not a string');
    }
    const trimmed = (content ?? '').trim();
    if (trimmed === '') {
      const finish =
        typeof choice.finish_reason === 'string' ? ` (finish_reason: ${choice.finish_reason})` : '';
      throw new AttemptFailed({
        retryable: false,
        toError: () => new UpstreamError(`LLM endpoint returned an empty answer${finish}`),
      });
    }
    const model = typeof json.model === 'string' && json.model !== '' ? json.model : this.config.model;
    return { content: trimmed, model };
  }

  /** Removes the API key from a message, in case an endpoint echoed it back in an error body. */
  private redact(message: string): string {
    const key = this.config.apiKey;
    return key ? message.split(key).join('[redacted]') : message;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeAttempts(attempts: number): string {
  return attempts === 1 ? '1 attempt' : `${attempts} attempts`;
}

/** `Retry-After` in (possibly fractional) seconds, as milliseconds capped at 5 s; dates are ignored. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || !/^\s*\d+(\.\d+)?\s*$/.test(header)) return undefined;
  return Math.min(Number(header) * 1000, MAX_RETRY_AFTER_MS);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > BODY_SNIPPET_CHARS ? `${flat.slice(0, BODY_SNIPPET_CHARS - 3)}...` : flat;
}

/**
 * `fetch failed` hides the reason in `cause` (e.g. ECONNREFUSED); surface its code. Duck-typed
 * rather than `instanceof Error`, because undici's errors may come from another realm (jest's VM).
 */
function describeNetworkError(error: unknown): string {
  const cause = isRecord(error) ? error.cause : undefined;
  if (isRecord(cause) && typeof cause.code === 'string') return cause.code;
  if (isRecord(cause) && typeof cause.message === 'string') return cause.message;
  if (isRecord(error) && typeof error.message === 'string') return error.message;
  return String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
