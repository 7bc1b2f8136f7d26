import type { ErrorRequestHandler } from 'express';

/**
 * Express error handler for the body parser: an oversized or malformed body still gets a
 * GraphQL-shaped error with a stable code instead of an HTML page.
 */
export const graphqlBodyErrorHandler: ErrorRequestHandler = (error, _req, res, next) => {
  const status = (error as { status?: number }).status;
  const type = (error as { type?: string }).type;
  if (type === 'entity.too.large' || status === 413) {
    res.status(413).json({
      errors: [{ message: 'Request body is too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });
    return;
  }
  if (type === 'entity.parse.failed' || status === 400) {
    res
      .status(400)
      .json({ errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
    return;
  }
  next(error);
};

/** Request body limit of every GraphQL endpoint. Documents are chunked by the memory subgraph. */
export const MAX_BODY_BYTES = '10mb';
