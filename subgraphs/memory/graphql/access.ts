import { authorizeOrg, type Access } from '../../../common/authz';
import { NotFoundError } from '../../../common/errors';
import type { Identity } from '../../../common/identity';

/** Whether the caller may see data of `orgId` (platform and service identities see every org). */
export function canSeeOrg(identity: Identity, orgId: string): boolean {
  return identity.kind === 'service' || identity.role === 'platform' || identity.orgId === orgId;
}

/**
 * Authorises an operation on an object found by id (a memory, a job). An object of another
 * org is NOT_FOUND, exactly like one that does not exist: ids reveal nothing across tenants.
 */
export function authorizeObject(
  identity: Identity,
  objectOrgId: string | undefined,
  notFound: string,
  operation: string,
  access: Access,
): string {
  if (!objectOrgId || !canSeeOrg(identity, objectOrgId)) throw new NotFoundError(notFound);
  return authorizeOrg(identity, objectOrgId, operation, access);
}
