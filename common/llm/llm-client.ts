/** One message of a chat conversation, in the OpenAI chat format. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** Sampling temperature; adapters default to 0 so outputs are as repeatable as the model allows. */
  temperature?: number;
  /** Upper bound on generated tokens. */
  maxTokens?: number;
}

export interface ChatResult {
  /** The assistant message's text, trimmed. Never empty: an empty answer is an UpstreamError. */
  content: string;
  /** The model that answered, as the endpoint reports it (falls back to the configured model). */
  model: string;
}

/**
 * Port to a chat-completion model. Used to generate promotion prompts (hierarchy) and, later,
 * to extract and promote memories. Failures (timeout, HTTP 429/5xx, malformed JSON, empty
 * answer) are thrown as `UpstreamError` (or `RateLimitedError` for a 429 that outlives the
 * retries) with a message that says what went wrong; adapters never return partial results.
 */
export interface LlmClient {
  /** Model id sent with each request; recorded in `promptMeta.model`. */
  readonly model: string;
  chat(request: ChatRequest): Promise<ChatResult>;
}
