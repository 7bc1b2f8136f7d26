import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError } from './errors';

/**
 * Who is calling, as verified by the gateway (from an API key) or as a service of Memsy
 * itself. Subgraphs only trust an identity that arrives signed with the internal secret.
 */
export type Identity =
  | {
      kind: 'key';
      keyId: string;
      /** The org the key belongs to; null for the platform admin key. */
      orgId: string | null;
      /** platform: may create orgs and act on any org; admin: may manage its org; member: reads and data. */
      role: 'platform' | 'admin' | 'member';
    }
  | {
      /** Another Memsy process (e.g. the memory subgraph fetching prompts). Trusted for every org. */
      kind: 'service';
      service: string;
    };

/** HTTP header that carries the signed identity from the gateway to the subgraphs. */
export const IDENTITY_HEADER = 'x-memsy-identity';
/** graphql-ws `connection_init` payload field that carries it over websockets. */
export const IDENTITY_PARAM = 'memsyIdentity';

/** Signed identities older than this are refused (limits replay of a captured header). */
const MAX_AGE_MS = 5 * 60_000;

/** `base64url(json).base64url(hmac)`: compact, header-safe, verifiable with the shared secret. */
export function signIdentity(identity: Identity, secret: string, now = Date.now()): string {
  const payload = Buffer.from(JSON.stringify({ ...identity, iat: now })).toString('base64url');
  return `${payload}.${hmac(payload, secret)}`;
}

/** Verifies a token from {@link signIdentity}; throws UNAUTHENTICATED when it is missing or forged. */
export function verifyIdentity(token: string | undefined | null, secret: string, now = Date.now()): Identity {
  if (!token) {
    throw new UnauthenticatedError('This service only accepts requests that come through the Memsy gateway');
  }
  const [payload, signature] = token.split('.');
  if (!payload || !signature || !safeEqual(signature, hmac(payload, secret))) {
    throw new UnauthenticatedError('Invalid gateway identity signature');
  }
  const { iat, ...identity } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Identity & {
    iat: number;
  };
  if (typeof iat !== 'number' || Math.abs(now - iat) > MAX_AGE_MS) {
    throw new UnauthenticatedError('Expired gateway identity');
  }
  return identity;
}

function hmac(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
