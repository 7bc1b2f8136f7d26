/**
 * Storage port of the hierarchy subgraph. Services depend on this interface only; the
 * Postgres adapter (postgres-hierarchy-store.ts) implements it with TypeORM, and the contract
 * suite in test/contract runs against every configured database.
 */

export type Level = 'org' | 'role' | 'team';
export type KeyRole = 'platform' | 'admin' | 'member';

export interface PromptMeta {
  /** `llm` or `template`. */
  generator: string;
  /** Model that wrote the prompt; null for templates. */
  model: string | null;
  templateVersion: string;
  generatedAt: Date;
}

/** An org, role or team. For an org, `id === orgId`. */
export interface HierarchyNode {
  level: Level;
  id: string;
  orgId: string;
  name: string;
  focus: string;
  promotionPrompt: string;
  promptMeta: PromptMeta;
  createdAt: Date;
  updatedAt: Date;
}

export interface Actor {
  orgId: string;
  actorId: string;
  roleId: string | null;
  teamId: string | null;
  displayName: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiKey {
  keyId: string;
  orgId: string | null;
  name: string;
  role: KeyRole;
  /** First characters of the secret, so a person can tell keys apart; never enough to use. */
  keyPrefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface NodePatch {
  name: string;
  focus: string;
  promotionPrompt: string;
  promptMeta: PromptMeta;
}

export interface Page {
  first: number;
  after?: { createdAt: Date; id: string };
}

export interface ActorKey {
  orgId: string;
  actorId: string;
}

export interface HierarchyStore {
  /** Inserts a node; throws ConflictError when the id (or the name within its org) is taken. */
  insertNode(node: HierarchyNode): Promise<void>;
  /** Nodes of one level by id, in no particular order; missing ids are simply absent. */
  getNodes(level: Level, ids: readonly string[]): Promise<HierarchyNode[]>;
  /** Nodes ordered by (createdAt, id); for roles/teams restricted to the given orgs, for orgs to those ids (all when omitted). */
  listNodes(level: Level, page: Page, orgIds?: readonly string[]): Promise<HierarchyNode[]>;
  /** Replaces name, focus and prompt; null when the node does not exist in that org. */
  updateNode(level: Level, id: string, orgId: string, patch: NodePatch): Promise<HierarchyNode | null>;
  /** Deletes a node and, through the schema's cascades, what hangs off it. False when absent. */
  deleteNode(level: Level, id: string, orgId: string): Promise<boolean>;

  upsertActor(actor: Omit<Actor, 'createdAt' | 'updatedAt'>): Promise<Actor>;
  getActors(keys: readonly ActorKey[]): Promise<Actor[]>;
  listActors(orgId: string, page: Page): Promise<Actor[]>;

  insertApiKey(key: ApiKey, keyHash: string): Promise<void>;
  /** The key with this hash, revoked or not. */
  findApiKeyByHash(keyHash: string): Promise<ApiKey | null>;
  getApiKey(keyId: string): Promise<ApiKey | null>;
  listApiKeys(orgId: string): Promise<ApiKey[]>;
  /** Marks a key revoked; false when it does not exist or already was. */
  revokeApiKey(keyId: string): Promise<boolean>;

  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
}
