import { GraphQLError } from 'graphql';
import { IDENTITY_HEADER, signIdentity, type Identity } from '../common/identity';

/**
 * Turns the `Authorization: Bearer msy_…` of a request into a verified identity by asking
 * the hierarchy subgraph (which owns API keys), and remembers answers for `ttlMs`.
 * `clear()` forgets them all: the gateway calls it when a `revokeApiKey` passes through, so a
 * revocation takes effect at once on this instance and within `ttlMs` on every other one.
 */
export class KeyAuthenticator {
  private readonly cache = new Map<string, { identity: Identity | null; expiresAt: number }>();

  constructor(
    private readonly authenticateUrl: string,
    private readonly internalSecret: string,
    private readonly ttlMs: number,
  ) {}

  /** The caller's identity; throws UNAUTHENTICATED when the key is missing, unknown or revoked. */
  async authenticate(authorization: string | undefined | null): Promise<Identity> {
    const key = parseBearer(authorization);
    if (!key) {
      throw unauthenticated('Missing API key: send the header "Authorization: Bearer msy_…"');
    }
    const identity = await this.lookup(key);
    if (!identity) throw unauthenticated('Invalid or revoked API key');
    return identity;
  }

  clear(): void {
    this.cache.clear();
  }

  private async lookup(key: string): Promise<Identity | null> {
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > now) return cached.identity;
    const response = await fetch(this.authenticateUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDENTITY_HEADER]: signIdentity({ kind: 'service', service: 'gateway' }, this.internalSecret),
      },
      body: JSON.stringify({ key }),
    });
    if (!response.ok) {
      throw new GraphQLError('Authentication service unavailable', {
        extensions: { code: 'INTERNAL_SERVER_ERROR', http: { status: 503 } },
      });
    }
    const { identity } = (await response.json()) as { identity: Identity | null };
    if (this.ttlMs > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, { identity, expiresAt: now + this.ttlMs });
    }
    return identity;
  }
}

function parseBearer(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(value);
  return match ? match[1] : undefined;
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

/**
 * The API key of a graphql-ws `connection_init` payload. Clients differ: accept
 * `{ Authorization }`, `{ authorization }` and `{ headers: { Authorization } }`.
 */
export function authorizationFromConnectionParams(
  params: Record<string, unknown> | undefined,
): string | undefined {
  if (!params) return undefined;
  const headers = (params.headers ?? {}) as Record<string, unknown>;
  for (const value of [
    params.Authorization,
    params.authorization,
    headers.Authorization,
    headers.authorization,
  ]) {
    if (typeof value === 'string') return value;
  }
  return undefined;
}
