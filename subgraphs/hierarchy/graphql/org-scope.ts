import { authorizeOrg, type Access } from '../../../common/authz';
import { NotFoundError } from '../../../common/errors';
import type { HierarchyContext } from '../context';

/**
 * Authorizes the caller for an org and checks the org exists, for list operations: the
 * platform key naming an unknown org gets NOT_FOUND rather than an empty list.
 */
export async function existingOrg(
  ctx: HierarchyContext,
  requestedOrgId: string | null | undefined,
  operation: string,
  access: Access,
): Promise<string> {
  const orgId = authorizeOrg(ctx.identity, requestedOrgId, operation, access);
  if (!(await ctx.loaders.nodes.org.load(orgId))) throw new NotFoundError(`Org "${orgId}" not found`);
  return orgId;
}
