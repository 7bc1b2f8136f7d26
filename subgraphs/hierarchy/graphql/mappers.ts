import type { ApiKey as ApiKeyModel, HierarchyNode } from '../storage/hierarchy-store';
import type { ApiKey, Org, Role, Team } from './types';

/** Domain → GraphQL shapes. Kept apart from resolvers so both stay one-liners. */
export function toOrg(node: HierarchyNode): Org {
  return { ...node, orgId: node.id };
}

export function toRole(node: HierarchyNode): Role {
  return { ...node, roleId: node.id };
}

export function toTeam(node: HierarchyNode): Team {
  return { ...node, teamId: node.id };
}

export function toApiKey(key: ApiKeyModel): ApiKey {
  return { ...key, admin: key.role !== 'member' };
}
