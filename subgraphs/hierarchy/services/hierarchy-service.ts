import { randomBytes } from 'node:crypto';
import { NotFoundError } from '../../../common/errors';
import type { HierarchyDeletionHooks } from '../../../common/internal-client';

const NO_HOOKS: HierarchyDeletionHooks = { orgDeleted: async () => {}, scopeDeleted: async () => {} };
import type { Actor, ActorKey, HierarchyNode, HierarchyStore, Level, Page } from '../storage/hierarchy-store';
import type { PromptGenerator, PromptSubject } from './prompt-generator';
import { validActorId, validFocus, validName, validOrgId } from './validation';

export interface NodeInput {
  name: string;
  focus?: string | null;
}

export interface NodeUpdate {
  name?: string | null;
  focus?: string | null;
}

export interface ActorInput {
  orgId: string;
  actorId: string;
  roleId?: string | null;
  teamId?: string | null;
  displayName?: string | null;
}

/**
 * The org → role / team hierarchy of seed 000: CRUD with promotion prompts, and actors.
 * Callers pass an org id that authorization already resolved; the service checks that every
 * role or team it touches belongs to that org. Prompts are generated before anything is
 * written, so a failing LLM leaves nothing half-written.
 */
export class HierarchyService {
  constructor(
    private readonly store: HierarchyStore,
    private readonly prompts: PromptGenerator,
    /** Purges what other subgraphs keep of an org, role or team being deleted (idempotent). */
    private readonly deletionHooks: HierarchyDeletionHooks = NO_HOOKS,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async createOrg(orgId: string, input: NodeInput): Promise<HierarchyNode> {
    const id = validOrgId(orgId);
    return this.createNode('org', id, id, input);
  }

  /** Creates a role or team under an org; its id is assigned here. */
  async createChild(level: 'role' | 'team', orgId: string, input: NodeInput): Promise<HierarchyNode> {
    await this.requireOrg(orgId);
    return this.createNode(level, `${level}_${randomId()}`, orgId, input);
  }

  private async createNode(
    level: Level,
    id: string,
    orgId: string,
    input: NodeInput,
  ): Promise<HierarchyNode> {
    const name = validName(input.name);
    const focus = validFocus(input.focus);
    const generated = await this.prompts.generate(await this.subject(level, orgId, name, focus));
    const now = this.now();
    const node: HierarchyNode = {
      level,
      id,
      orgId,
      name,
      focus,
      promotionPrompt: generated.prompt,
      promptMeta: generated.meta,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.insertNode(node);
    return node;
  }

  /** Missing ids are left out; the result is in no particular order. */
  getNodes(level: Level, ids: readonly string[]): Promise<HierarchyNode[]> {
    return this.store.getNodes(level, ids);
  }

  async getNode(level: Level, id: string, orgId: string): Promise<HierarchyNode> {
    const [node] = await this.store.getNodes(level, [id]);
    if (!node || node.orgId !== orgId) throw notFound(level, id, orgId);
    return node;
  }

  listNodes(level: Level, page: Page, orgIds?: readonly string[]): Promise<HierarchyNode[]> {
    return this.store.listNodes(level, page, orgIds);
  }

  /** Updates name and/or focus; the prompt is regenerated only when one of them changed. */
  async updateNode(level: Level, id: string, orgId: string, update: NodeUpdate): Promise<HierarchyNode> {
    const current = await this.getNode(level, id, orgId);
    const name = update.name === undefined || update.name === null ? current.name : validName(update.name);
    const focus =
      update.focus === undefined || update.focus === null ? current.focus : validFocus(update.focus);
    if (name === current.name && focus === current.focus) return current;
    return this.rewrite(current, name, focus);
  }

  async regeneratePrompt(level: Level, id: string, orgId: string): Promise<HierarchyNode> {
    const current = await this.getNode(level, id, orgId);
    return this.rewrite(current, current.name, current.focus);
  }

  private async rewrite(current: HierarchyNode, name: string, focus: string): Promise<HierarchyNode> {
    const generated = await this.prompts.generate(
      await this.subject(current.level, current.orgId, name, focus),
    );
    const updated = await this.store.updateNode(current.level, current.id, current.orgId, {
      name,
      focus,
      promotionPrompt: generated.prompt,
      promptMeta: generated.meta,
    });
    if (!updated) throw notFound(current.level, current.id, current.orgId);
    return updated;
  }

  /** Deleting an org removes its roles, teams, actors and keys; a role or team is cleared from actors. */
  async deleteNode(level: Level, id: string, orgId: string): Promise<boolean> {
    // The other subgraphs' data of the org, role or team (memories, documents, events, jobs,
    // entities) goes first: if that fails the node still exists and deletion can be retried.
    await this.getNode(level, id, orgId);
    if (level === 'org') await this.deletionHooks.orgDeleted(orgId);
    else await this.deletionHooks.scopeDeleted(orgId, { level: level === 'role' ? 'ROLE' : 'TEAM', id });
    const deleted = await this.store.deleteNode(level, id, orgId);
    if (!deleted) throw notFound(level, id, orgId);
    return true;
  }

  async upsertActor(input: ActorInput): Promise<Actor> {
    const actorId = validActorId(input.actorId);
    await this.requireOrg(input.orgId);
    const roleId = input.roleId || null;
    const teamId = input.teamId || null;
    if (roleId) await this.getNode('role', roleId, input.orgId);
    if (teamId) await this.getNode('team', teamId, input.orgId);
    const displayName = input.displayName ? validName(input.displayName, 'displayName') : null;
    return this.store.upsertActor({ orgId: input.orgId, actorId, roleId, teamId, displayName });
  }

  getActors(keys: readonly ActorKey[]): Promise<Actor[]> {
    return this.store.getActors(keys);
  }

  listActors(orgId: string, page: Page): Promise<Actor[]> {
    return this.store.listActors(orgId, page);
  }

  async requireOrg(orgId: string): Promise<HierarchyNode> {
    return this.getNode('org', orgId, orgId);
  }

  private async subject(level: Level, orgId: string, name: string, focus: string): Promise<PromptSubject> {
    if (level === 'org') return { level, name, focus };
    const org = await this.requireOrg(orgId);
    return { level, name, focus, org: { name: org.name, focus: org.focus } };
  }
}

function notFound(level: Level, id: string, orgId: string): NotFoundError {
  return level === 'org'
    ? new NotFoundError(`Org "${id}" not found`)
    : new NotFoundError(`${level === 'role' ? 'Role' : 'Team'} "${id}" not found in org "${orgId}"`);
}

/** 12 lowercase base-32 characters (60 bits): short enough to read, unique enough never to collide. */
export function randomId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return Array.from(randomBytes(12), (byte) => alphabet[byte & 31]).join('');
}
