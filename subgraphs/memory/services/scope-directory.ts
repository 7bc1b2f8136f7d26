import { UpstreamError } from '../../../common/errors';
import { IDENTITY_HEADER, signIdentity } from '../../../common/identity';

/** What the memory subgraph needs to know about an org's hierarchy. */
export interface OrgDirectory {
  orgId: string;
  promotionPrompt: string;
  /** The org's name and focus (for the promotion judge); absent from directories built by tests. */
  name?: string;
  focus?: string | null;
  roles: Map<string, { promotionPrompt: string; name?: string; focus?: string | null }>;
  teams: Map<string, { promotionPrompt: string; name?: string; focus?: string | null }>;
  actors: Map<string, { roleId: string | null; teamId: string | null }>;
}

/**
 * Port to the hierarchy (owned by the hierarchy subgraph): checks that actors, roles and
 * teams exist and supplies the promotion prompts that bias extraction (seed 000).
 */
export interface ScopeDirectory {
  /** The org with all its roles and teams and the requested actors; null when the org does not exist. */
  lookup(orgId: string, actorIds: readonly string[]): Promise<OrgDirectory | null>;
}

const PAGE = 500;

/**
 * {@link ScopeDirectory} over the hierarchy subgraph's GraphQL API with a signed service
 * identity (the same path the gateway uses). Callers cache results per batch.
 */
export class HierarchyScopeDirectory implements ScopeDirectory {
  constructor(
    private readonly hierarchyUrl: string,
    private readonly internalSecret: string,
  ) {}

  async lookup(orgId: string, actorIds: readonly string[]): Promise<OrgDirectory | null> {
    const first = await this.request<LookupData>(
      `query Lookup($orgId: ID!, $reps: [_Any!]!, $first: Int!) {
        org(orgId: $orgId) { orgId name focus promotionPrompt }
        roles(orgId: $orgId, first: $first) { roleId name focus promotionPrompt }
        teams(orgId: $orgId, first: $first) { teamId name focus promotionPrompt }
        _entities(representations: $reps) { ... on Actor { actorId roleId teamId } }
      }`,
      {
        orgId,
        first: PAGE,
        reps: [...new Set(actorIds)].map((actorId) => ({ __typename: 'Actor', actorId, orgId })),
      },
    );
    if (!first.data?.org) {
      if (first.errors?.some((error) => error.extensions?.code === 'NOT_FOUND')) return null;
      throw new UpstreamError(`hierarchy lookup failed: ${first.errors?.[0]?.message ?? 'no data'}`);
    }
    const roles = [...first.data.roles];
    const teams = [...first.data.teams];
    // Orgs with more than one page of roles or teams: fetch the rest.
    for (const [list, field, idField] of [
      [roles, 'roles', 'roleId'],
      [teams, 'teams', 'teamId'],
    ] as const) {
      while (list.length % PAGE === 0 && list.length > 0) {
        const after = (list.at(-1) as Record<string, string>)[idField];
        const page = await this.request<Record<string, Array<Record<string, string>>>>(
          `query($orgId: ID!, $first: Int!, $after: ID) { ${field}(orgId: $orgId, first: $first, after: $after) { ${idField} name focus promotionPrompt } }`,
          { orgId, first: PAGE, after },
        );
        const rows = page.data?.[field] ?? [];
        if (rows.length === 0) break;
        (list as Array<Record<string, string>>).push(...rows);
      }
    }
    return {
      orgId,
      promotionPrompt: first.data.org.promotionPrompt,
      name: first.data.org.name,
      focus: first.data.org.focus,
      roles: new Map(
        roles.map((role) => [
          role.roleId,
          { promotionPrompt: role.promotionPrompt, name: role.name, focus: role.focus },
        ]),
      ),
      teams: new Map(
        teams.map((team) => [
          team.teamId,
          { promotionPrompt: team.promotionPrompt, name: team.name, focus: team.focus },
        ]),
      ),
      actors: new Map(
        first.data._entities
          .filter((actor): actor is NonNullable<typeof actor> => actor !== null)
          .map((actor) => [actor.actorId, { roleId: actor.roleId, teamId: actor.teamId }]),
      ),
    };
  }

  private async request<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLResult<T>> {
    let response: Response;
    try {
      response = await fetch(this.hierarchyUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [IDENTITY_HEADER]: signIdentity({ kind: 'service', service: 'memory' }, this.internalSecret),
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new UpstreamError(`hierarchy subgraph unreachable: ${(error as Error).message}`);
    }
    if (!response.ok && response.status !== 200) {
      const body = (await response.json().catch(() => null)) as GraphQLResult<T> | null;
      if (body?.errors) return body;
      throw new UpstreamError(`hierarchy subgraph answered HTTP ${response.status}`);
    }
    return (await response.json()) as GraphQLResult<T>;
  }
}

interface GraphQLResult<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

interface LookupData {
  org: { orgId: string; name: string; focus: string | null; promotionPrompt: string } | null;
  roles: Array<{ roleId: string; name: string; focus: string | null; promotionPrompt: string }>;
  teams: Array<{ teamId: string; name: string; focus: string | null; promotionPrompt: string }>;
  _entities: Array<{ actorId: string; roleId: string | null; teamId: string | null } | null>;
}
