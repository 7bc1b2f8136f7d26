import type { LlmConfig } from '../config';
import { UpstreamError } from '../errors';
import type { ChatRequest, ChatResult, LlmClient } from './llm-client';
import { isRecord, postOpenAiJson, snippet } from './openai-http';

export interface OpenAiChatClientOptions {
  /** First backoff delay between attempts; doubles on each retry. @default 250 */
  retryBaseDelayMs?: number;
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
 * The HTTP and retry part is shared with the embeddings adapter: see {@link postOpenAiJson}.
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
    return postOpenAiJson(
      {
        endpoint: this.endpoint,
        apiKey: this.config.apiKey,
        body,
        timeoutMs: this.config.timeoutMs,
        maxRetries: this.config.maxRetries,
        retryBaseDelayMs: this.retryBaseDelayMs,
        label: 'LLM',
      },
      (text) => this.parse(text),
    );
  }

  private parse(text: string): ChatResult {
    const malformed = (why: string) =>
      new UpstreamError(`LLM endpoint returned malformed JSON (${why}): ${snippet(text)}`);
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
      throw new UpstreamError(`LLM endpoint returned an empty answer${finish}`);
    }
    const model = typeof json.model === 'string' && json.model !== '' ? json.model : this.config.model;
    return { content: trimmed, model };
  }
}
