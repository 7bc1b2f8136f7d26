import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/**
 * Stable error codes carried in `extensions.code`. Clients switch on these, so they are a
 * public contract (DESIGN.md section 7): add codes, never rename them.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'UPSTREAM_ERROR'
  | 'INTERNAL_SERVER_ERROR';

/** HTTP status a code maps to when an error ends a request before execution (auth, context). */
const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UPSTREAM_ERROR: 502,
  INTERNAL_SERVER_ERROR: 500,
};

/**
 * Base class of every error a service may throw on purpose. Services never build
 * `GraphQLError`s themselves; {@link toGraphQLError} is the one place that maps them.
 */
export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  constructor(
    message: string,
    /** Extra, safe-to-show details (for example the offending field). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadUserInputError extends DomainError {
  readonly code = 'BAD_USER_INPUT' as const;
}
export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND' as const;
}
export class ConflictError extends DomainError {
  readonly code = 'CONFLICT' as const;
}
export class UnauthenticatedError extends DomainError {
  readonly code = 'UNAUTHENTICATED' as const;
}
/** The seed's typed AuthorizationError: the key is valid but may not do this. */
export class AuthorizationError extends DomainError {
  readonly code = 'FORBIDDEN' as const;
}
export class PayloadTooLargeError extends DomainError {
  readonly code = 'PAYLOAD_TOO_LARGE' as const;
}
export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED' as const;
}
/** A configured remote dependency (LLM, embeddings endpoint) failed or answered nonsense. */
export class UpstreamError extends DomainError {
  readonly code = 'UPSTREAM_ERROR' as const;
}

/** Maps a domain error to the GraphQL error clients see; anything else is masked. */
export function toGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) {
    const original = error.originalError;
    if (original && !(original instanceof GraphQLError) && original !== error) {
      const mapped = toGraphQLError(original);
      return new GraphQLError(mapped.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        extensions: mapped.extensions,
      });
    }
    return error;
  }
  if (error instanceof DomainError) {
    return new GraphQLError(error.message, {
      extensions: { ...error.details, code: error.code, http: { status: HTTP_STATUS[error.code] } },
    });
  }
  return new GraphQLError('Internal server error', {
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}

/**
 * Apollo `formatError` hook shared by every server: keeps domain codes, masks anything
 * unexpected (logged once here, never sent to the client) and never leaks a stack trace.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  log: (message: string, error: unknown) => void = defaultLog,
): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof DomainError) {
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { ...original.details, code: original.code },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
    // Errors Apollo/graphql-js raise themselves (validation, parse, BAD_USER_INPUT on
    // variables) or ones forwarded by the gateway from a subgraph, which already mapped them.
    const { stacktrace: _stack, exception: _exception, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  if (
    original instanceof GraphQLError &&
    original.extensions?.code === undefined &&
    !original.originalError
  ) {
    // A graphql-js execution error without a cause (e.g. non-null violation): safe to show.
    return {
      message: formatted.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  }
  log('unexpected error', original);
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}

function defaultLog(message: string, error: unknown): void {
  console.error(`[memsy] ${message}:`, error);
}
