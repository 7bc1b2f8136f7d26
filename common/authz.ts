import { AuthorizationError, BadUserInputError } from './errors';
import type { Identity } from './identity';

/** What an operation needs of the caller's key. */
export type Access = 'read' | 'write' | 'admin';

/**
 * Resolves the org an operation acts on and checks the caller may act on it.
 *
 * - A key of an org may omit `orgId` (its own org is used) and may never name another org.
 * - The platform admin key belongs to no org and must name one.
 * - `admin` operations need an admin (or platform) key: a member key gets FORBIDDEN naming
 *   the operation (the seed's typed AuthorizationError).
 */
export function authorizeOrg(
  identity: Identity,
  requestedOrgId: string | null | undefined,
  operation: string,
  access: Access,
): string {
  if (identity.kind === 'service') {
    if (!requestedOrgId) throw new BadUserInputError(`${operation}: orgId is required`, { field: 'orgId' });
    return requestedOrgId;
  }
  if (identity.role === 'platform') {
    if (!requestedOrgId) {
      throw new BadUserInputError(`${operation}: orgId is required with the platform admin key`, {
        field: 'orgId',
      });
    }
    return requestedOrgId;
  }
  const ownOrg = identity.orgId!;
  if (requestedOrgId && requestedOrgId !== ownOrg) {
    throw new AuthorizationError(
      `${operation}: this API key belongs to another org and cannot access org "${requestedOrgId}"`,
      {
        operation,
      },
    );
  }
  if (access === 'admin' && identity.role !== 'admin') {
    throw new AuthorizationError(`${operation} requires an admin API key`, { operation });
  }
  return ownOrg;
}

/** Operations only the platform admin key may run (creating orgs, listing every org). */
export function requirePlatformAdmin(identity: Identity, operation: string): void {
  if (identity.kind === 'key' && identity.role === 'platform') return;
  throw new AuthorizationError(`${operation} requires the platform admin key`, { operation });
}

/** The orgs a caller may see: all for the platform key and services, else its own. */
export function visibleOrgIds(identity: Identity): string[] | undefined {
  if (identity.kind === 'service' || identity.role === 'platform') return undefined;
  return [identity.orgId!];
}
