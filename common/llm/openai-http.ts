import { DomainError, RateLimitedError, UpstreamError } from '../errors';

/** One `POST` to an OpenAI-compatible endpoint, for {@link postOpenAiJson}. */
export interface OpenAiPostRequest {
  /** Full URL, e.g. `http://localhost:11434/v1/embeddings`. */
  endpoint: string;
  apiKey?: string;
  /** JSON text of the request body. */
  body: string;
  timeoutMs: number;
  maxRetries: number;
  /** First backoff delay between attempts; doubles on each retry. */
  retryBaseDelayMs: number;
  /** Names the service in error messages: `LLM` gives "LLM endpoint answered HTTP 500 ...". */
  label: string;
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
 * Sends a JSON body to an OpenAI-compatible endpoint (chat completions, embeddings) and hands
 * the body of the first 2xx answer to `parse`, whose result it returns. The error policy every
 * adapter of such an endpoint shares:
 *
 * - Each attempt is bounded by `timeoutMs` (an `AbortController`), reading the body included.
 * - Timeouts, network errors, HTTP 429 and HTTP 5xx are retried up to `maxRetries` times with
 *   exponential backoff (`retryBaseDelayMs * 2^n`, capped at 10 s); a numeric `Retry-After`
 *   header is honoured, capped at 5 s. Other 4xx answers fail at once.
 * - Failures throw `RateLimitedError` (429 after every retry) or `UpstreamError` (everything
 *   else). A `DomainError` thrown by `parse` (malformed or nonsensical answer) fails at once.
 * - Error messages never contain the API key, even when the endpoint echoes it back.
 */
export async function postOpenAiJson<T>(request: OpenAiPostRequest, parse: (text: string) => T): Promise<T> {
  const maxAttempts = Math.max(0, Math.floor(request.maxRetries)) + 1;
  for (let attempt = 1; ; attempt++) {
    let text: string;
    try {
      text = await attemptOnce(request);
    } catch (error) {
      if (!(error instanceof AttemptFailed)) throw error;
      const { failure } = error;
      if (!failure.retryable || attempt >= maxAttempts) {
        throw redact(failure.toError(attempt), request.apiKey);
      }
      const backoff = Math.min(request.retryBaseDelayMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
      await sleep(failure.retryAfterMs ?? backoff);
      continue;
    }
    try {
      return parse(text);
    } catch (error) {
      throw error instanceof DomainError ? redact(error, request.apiKey) : error;
    }
  }
}

/** One HTTP round trip; resolves with the body of a 2xx answer or rejects with {@link AttemptFailed}. */
async function attemptOnce(request: OpenAiPostRequest): Promise<string> {
  const { endpoint, timeoutMs, label } = request;
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
    if (request.apiKey) headers.authorization = `Bearer ${request.apiKey}`;
    // The timer also covers reading the body, so a server that stalls mid-answer times out too.
    const response = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: request.body,
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
          new UpstreamError(
            `${label} request timed out after ${timeoutMs} ms (${describeAttempts(attempts)})`,
          ),
      });
    }
    const reason = describeNetworkError(error);
    throw new AttemptFailed({
      retryable: true,
      toError: (attempts) =>
        new UpstreamError(
          `${label} endpoint ${endpoint} could not be reached (${reason}) after ${describeAttempts(attempts)}`,
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
          `${label} endpoint rate-limited the request (HTTP 429) after ${describeAttempts(attempts)}`,
        ),
    });
  }
  if (status >= 500) {
    throw new AttemptFailed({
      retryable: true,
      retryAfterMs: parseRetryAfter(retryAfterHeader),
      toError: (attempts) =>
        new UpstreamError(
          `${label} endpoint answered HTTP ${status} after ${describeAttempts(attempts)}: ${snippet(text)}`,
        ),
    });
  }
  if (status < 200 || status >= 300) {
    throw new AttemptFailed({
      retryable: false,
      toError: () => new UpstreamError(`${label} endpoint answered HTTP ${status}: ${snippet(text)}`),
    });
  }
  return text;
}

/** Removes the API key from an error's message, in case an endpoint echoed it back. */
function redact(error: DomainError, apiKey: string | undefined): DomainError {
  if (apiKey) error.message = error.message.split(apiKey).join('[redacted]');
  return error;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A body flattened to one line and cut to 200 characters, for quoting in an error message. */
export function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > BODY_SNIPPET_CHARS ? `${flat.slice(0, BODY_SNIPPET_CHARS - 3)}...` : flat;
}

function describeAttempts(attempts: number): string {
  return attempts === 1 ? '1 attempt' : `${attempts} attempts`;
}

/** `Retry-After` in (possibly fractional) seconds, as milliseconds capped at 5 s; dates are ignored. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || !/^\s*\d+(\.\d+)?\s*$/.test(header)) return undefined;
  return Math.min(Number(header) * 1000, MAX_RETRY_AFTER_MS);
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
