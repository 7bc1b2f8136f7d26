/** Input limits of the memory API, documented in the README. */
export const MEMORY_LIMITS = {
  /** Events per `ingestEvents` call. */
  eventsPerBatch: 1000,
  /** Documents per `ingestDocuments` call. */
  documentsPerBatch: 100,
  /** Characters of one event's content. */
  eventChars: 32_000,
  /** Characters of one document (documents are chunked). */
  documentChars: 1_000_000,
  /** Characters of a memory written with `createMemory`. */
  memoryChars: 32_000,
  /** Length of client ids (eventId, sessionId, documentId). */
  idChars: 200,
  /** Serialised size of one metadata object. */
  metadataBytes: 16_000,
} as const;
