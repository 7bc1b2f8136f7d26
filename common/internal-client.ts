import { UpstreamError } from './errors';
import { IDENTITY_HEADER, signIdentity } from './identity';

/**
 * POSTs JSON to another subgraph's internal route (`/internal/<path>` next to its `/graphql`),
 * signed with a service identity. Throws UpstreamError when it cannot be reached or refuses.
 */
export async function postInternal<T>(
  graphqlUrl: string,
  path: string,
  body: unknown,
  internalSecret: string,
  service: string,
  timeoutMs = 30_000,
): Promise<T> {
  const url = new URL(`/internal/${path}`, graphqlUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDENTITY_HEADER]: signIdentity({ kind: 'service', service }, internalSecret),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new UpstreamError(`${url.host} unreachable for ${path}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new UpstreamError(`${url.host} answered HTTP ${response.status} to ${path}`);
  return (await response.json()) as T;
}

/** A role or team scope being deleted. */
export interface DeletedScope {
  level: 'ROLE' | 'TEAM';
  id: string;
}

/**
 * What the hierarchy runs before deleting an org, a role or a team: every other subgraph
 * purges what it keeps of it (idempotent, so a failed deletion can simply be retried).
 */
export interface HierarchyDeletionHooks {
  orgDeleted(orgId: string): Promise<void>;
  scopeDeleted(orgId: string, scope: DeletedScope): Promise<void>;
}

/**
 * Hooks that call `/internal/delete-org` and `/internal/delete-scope` of the given subgraphs.
 * `urls` is read at call time (those subgraphs start after the hierarchy).
 */
export function purgeInSubgraphs(urls: () => string[], internalSecret: string): HierarchyDeletionHooks {
  const post = async (path: string, body: unknown) => {
    for (const url of urls()) await postInternal(url, path, body, internalSecret, 'hierarchy');
  };
  return {
    orgDeleted: (orgId) => post('delete-org', { orgId }),
    scopeDeleted: (orgId, scope) => post('delete-scope', { orgId, scope }),
  };
}
