import { createHash, randomBytes } from 'node:crypto';
import { AuthorizationError, BadUserInputError, NotFoundError } from '../../../common/errors';
import type { Identity } from '../../../common/identity';
import type { ApiKey, HierarchyStore } from '../storage/hierarchy-store';
import { randomId } from './hierarchy-service';
import { validName } from './validation';

export interface CreatedApiKey {
  key: ApiKey;
  /** The secret itself: shown once, stored only as a hash. */
  secret: string;
}

const KEY_PREFIX = 'msy_';

/**
 * API keys: `msy_` + 32 random bytes (base64url), stored as a SHA-256 hash (the keys are
 * high-entropy, so a slow password hash buys nothing and would cost every request).
 */
export class ApiKeyService {
  constructor(
    private readonly store: HierarchyStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(orgId: string, admin: boolean, name: string | null | undefined): Promise<CreatedApiKey> {
    const secret = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const key: ApiKey = {
      keyId: `key_${randomId()}`,
      orgId,
      name: name ? validName(name) : admin ? 'admin key' : 'member key',
      role: admin ? 'admin' : 'member',
      keyPrefix: secret.slice(0, KEY_PREFIX.length + 6),
      createdAt: this.now(),
      revokedAt: null,
    };
    await this.store.insertApiKey(key, hashKey(secret));
    return { key, secret };
  }

  /**
   * Registers the platform admin key given in configuration (idempotent), or returns false
   * when it was already registered.
   */
  async ensurePlatformKey(secret: string): Promise<boolean> {
    const keyHash = hashKey(secret);
    const existing = await this.store.findApiKeyByHash(keyHash);
    if (existing) {
      if (existing.role !== 'platform' || existing.revokedAt) {
        throw new Error('MEMSY_ADMIN_KEY is registered as a non-platform or revoked key');
      }
      return false;
    }
    await this.store.insertApiKey(
      {
        keyId: `key_${randomId()}`,
        orgId: null,
        name: 'platform admin key',
        role: 'platform',
        keyPrefix: secret.slice(0, KEY_PREFIX.length + 6),
        createdAt: this.now(),
        revokedAt: null,
      },
      keyHash,
    );
    return true;
  }

  /** The identity of a presented key, or null when it is unknown or revoked. */
  async authenticate(secret: string): Promise<Identity | null> {
    if (!secret.startsWith(KEY_PREFIX) || secret.length > 200) return null;
    const key = await this.store.findApiKeyByHash(hashKey(secret));
    if (!key || key.revokedAt) return null;
    return { kind: 'key', keyId: key.keyId, orgId: key.orgId, role: key.role };
  }

  list(orgId: string): Promise<ApiKey[]> {
    return this.store.listApiKeys(orgId);
  }

  /** Revokes a key of the caller's org (any key for the platform admin). */
  async revoke(identity: Identity, keyId: string, operation: string): Promise<boolean> {
    if (!keyId) throw new BadUserInputError('keyId must not be empty', { field: 'keyId' });
    const key = await this.store.getApiKey(keyId);
    const isPlatform = identity.kind === 'service' || identity.role === 'platform';
    if (!key || (!isPlatform && key.orgId !== identity.orgId))
      throw new NotFoundError(`API key "${keyId}" not found`);
    if (!isPlatform && identity.kind === 'key' && identity.role !== 'admin') {
      throw new AuthorizationError(`${operation} requires an admin API key`, { operation });
    }
    if (key.role === 'platform')
      throw new AuthorizationError('The platform admin key cannot be revoked through the API', { operation });
    if (key.revokedAt) return true;
    await this.store.revokeApiKey(keyId);
    return true;
  }
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
