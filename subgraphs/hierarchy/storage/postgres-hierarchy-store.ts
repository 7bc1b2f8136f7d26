import { In, type DataSource, type ObjectLiteral, type Repository, QueryFailedError } from 'typeorm';
import { ConflictError } from '../../../common/errors';
import { ActorRecord, ApiKeyRecord, OrgRecord, RoleRecord, TeamRecord } from './records';
import type {
  Actor,
  ActorKey,
  ApiKey,
  HierarchyNode,
  HierarchyStore,
  Level,
  NodePatch,
  Page,
} from './hierarchy-store';

type NodeRecord = OrgRecord | RoleRecord | TeamRecord;

const NODE_RECORD = { org: OrgRecord, role: RoleRecord, team: TeamRecord } as const;
const ID_COLUMN = { org: 'org_id', role: 'role_id', team: 'team_id' } as const;

/** {@link HierarchyStore} on Postgres (a server or the embedded PGlite) through TypeORM. */
export class PostgresHierarchyStore implements HierarchyStore {
  constructor(private readonly db: DataSource) {}

  private nodes(level: Level): Repository<NodeRecord> {
    return this.db.getRepository<NodeRecord>(NODE_RECORD[level]);
  }

  async insertNode(node: HierarchyNode): Promise<void> {
    await conflictsAsDomainErrors(
      () => this.nodes(node.level).insert(toNodeRecord(node)),
      `A ${node.level} with this ${node.level === 'org' ? 'id' : 'name'} already exists`,
    );
  }

  async getNodes(level: Level, ids: readonly string[]): Promise<HierarchyNode[]> {
    if (ids.length === 0) return [];
    const records = await this.nodes(level).findBy({ id: In([...ids]) });
    return records.map((record) => toNode(level, record));
  }

  async listNodes(level: Level, page: Page, orgIds?: readonly string[]): Promise<HierarchyNode[]> {
    const query = this.nodes(level).createQueryBuilder('n');
    if (orgIds) {
      if (orgIds.length === 0) return [];
      query.andWhere(`n.${level === 'org' ? ID_COLUMN.org : 'org_id'} IN (:...orgIds)`, {
        orgIds: [...orgIds],
      });
    }
    if (page.after) {
      query.andWhere(`(n.created_at, n.${ID_COLUMN[level]}) > (:createdAt, :id)`, page.after);
    }
    const records = await query
      .orderBy('n.created_at', 'ASC')
      .addOrderBy(`n.${ID_COLUMN[level]}`, 'ASC')
      .take(page.first)
      .getMany();
    return records.map((record) => toNode(level, record));
  }

  async updateNode(level: Level, id: string, orgId: string, patch: NodePatch): Promise<HierarchyNode | null> {
    const where = level === 'org' ? { id } : { id, orgId };
    const values = {
      name: patch.name,
      focus: patch.focus,
      promotionPrompt: patch.promotionPrompt,
      promptGenerator: patch.promptMeta.generator,
      promptModel: patch.promptMeta.model,
      promptTemplateVersion: patch.promptMeta.templateVersion,
      promptGeneratedAt: patch.promptMeta.generatedAt,
      updatedAt: new Date(),
    };
    const result = await conflictsAsDomainErrors(
      () => this.nodes(level).update(where, values),
      `A ${level} with this name already exists`,
    );
    if (!result.affected) return null;
    const [node] = await this.getNodes(level, [id]);
    return node ?? null;
  }

  async deleteNode(level: Level, id: string, orgId: string): Promise<boolean> {
    const where = level === 'org' ? { id } : { id, orgId };
    const result = await this.nodes(level).delete(where);
    return (result.affected ?? 0) > 0;
  }

  async upsertActor(actor: Omit<Actor, 'createdAt' | 'updatedAt'>): Promise<Actor> {
    // Timestamps at millisecond precision: list cursors carry them as JS Dates (ms), and a
    // server's microseconds would make `(created_at, actor_id) > cursor` repeat rows forever.
    const rows = (await this.db.query(
      `INSERT INTO hierarchy.actors (org_id, actor_id, role_id, team_id, display_name, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, date_trunc('milliseconds', now()), date_trunc('milliseconds', now()))
       ON CONFLICT (org_id, actor_id) DO UPDATE
         SET role_id = EXCLUDED.role_id, team_id = EXCLUDED.team_id,
             display_name = EXCLUDED.display_name, updated_at = date_trunc('milliseconds', now())
       RETURNING org_id, actor_id, role_id, team_id, display_name, created_at, updated_at`,
      [actor.orgId, actor.actorId, actor.roleId, actor.teamId, actor.displayName],
    )) as RawActor[];
    return fromRawActor(rows[0]!);
  }

  async getActors(keys: readonly ActorKey[]): Promise<Actor[]> {
    if (keys.length === 0) return [];
    const records = await this.db.getRepository(ActorRecord).find({
      where: keys.map(({ orgId, actorId }) => ({ orgId, actorId })),
    });
    return records.map(toActor);
  }

  async listActors(orgId: string, page: Page): Promise<Actor[]> {
    const query = this.db
      .getRepository(ActorRecord)
      .createQueryBuilder('a')
      .where('a.org_id = :orgId', { orgId });
    if (page.after) {
      query.andWhere('(a.created_at, a.actor_id) > (:createdAt, :id)', page.after);
    }
    const records = await query
      .orderBy('a.created_at', 'ASC')
      .addOrderBy('a.actor_id', 'ASC')
      .take(page.first)
      .getMany();
    return records.map(toActor);
  }

  async insertApiKey(key: ApiKey, keyHash: string): Promise<void> {
    await this.db.getRepository(ApiKeyRecord).insert({ ...key, keyHash });
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKey | null> {
    const record = await this.db.getRepository(ApiKeyRecord).findOneBy({ keyHash });
    return record ? toApiKey(record) : null;
  }

  async getApiKey(keyId: string): Promise<ApiKey | null> {
    const record = await this.db.getRepository(ApiKeyRecord).findOneBy({ keyId });
    return record ? toApiKey(record) : null;
  }

  async listApiKeys(orgId: string): Promise<ApiKey[]> {
    const records = await this.db
      .getRepository(ApiKeyRecord)
      .find({ where: { orgId }, order: { createdAt: 'ASC', keyId: 'ASC' } });
    return records.map(toApiKey);
  }

  async revokeApiKey(keyId: string): Promise<boolean> {
    const result = await this.db
      .getRepository(ApiKeyRecord)
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('key_id = :keyId AND revoked_at IS NULL', { keyId })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}

async function conflictsAsDomainErrors<T>(write: () => Promise<T>, message: string): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof QueryFailedError && (error.driverError as { code?: string }).code === '23505') {
      throw new ConflictError(message);
    }
    throw error;
  }
}

function toNodeRecord(node: HierarchyNode): ObjectLiteral {
  return {
    id: node.id,
    ...(node.level === 'org' ? {} : { orgId: node.orgId }),
    name: node.name,
    focus: node.focus,
    promotionPrompt: node.promotionPrompt,
    promptGenerator: node.promptMeta.generator,
    promptModel: node.promptMeta.model,
    promptTemplateVersion: node.promptMeta.templateVersion,
    promptGeneratedAt: node.promptMeta.generatedAt,
    createdAt: node.createdAt,
    updatedAt: node.updatedAt,
  };
}

function toNode(level: Level, record: NodeRecord): HierarchyNode {
  return {
    level,
    id: record.id,
    orgId: 'orgId' in record ? record.orgId : record.id,
    name: record.name,
    focus: record.focus,
    promotionPrompt: record.promotionPrompt,
    promptMeta: {
      generator: record.promptGenerator,
      model: record.promptModel,
      templateVersion: record.promptTemplateVersion,
      generatedAt: record.promptGeneratedAt,
    },
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

function toActor(record: ActorRecord): Actor {
  return {
    orgId: record.orgId,
    actorId: record.actorId,
    roleId: record.roleId,
    teamId: record.teamId,
    displayName: record.displayName,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

interface RawActor {
  org_id: string;
  actor_id: string;
  role_id: string | null;
  team_id: string | null;
  display_name: string | null;
  created_at: Date;
  updated_at: Date;
}

function fromRawActor(row: RawActor): Actor {
  return {
    orgId: row.org_id,
    actorId: row.actor_id,
    roleId: row.role_id,
    teamId: row.team_id,
    displayName: row.display_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toApiKey(record: ApiKeyRecord): ApiKey {
  return {
    keyId: record.keyId,
    orgId: record.orgId,
    name: record.name,
    role: record.role,
    keyPrefix: record.keyPrefix,
    createdAt: record.createdAt,
    revokedAt: record.revokedAt,
  };
}
