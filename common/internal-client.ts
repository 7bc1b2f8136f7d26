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

/**
 * The hook the hierarchy runs before deleting an org: every other subgraph purges what it
 * keeps of the org. `urls` is read at call time (subgraphs start after the hierarchy).
 */
export function purgeOrgInSubgraphs(
  urls: () => string[],
  internalSecret: string,
): (orgId: string) => Promise<void> {
  return async (orgId) => {
    for (const url of urls()) await postInternal(url, 'delete-org', { orgId }, internalSecret, 'hierarchy');
  };
}
