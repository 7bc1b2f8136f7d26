import { BadUserInputError } from '../../../common/errors';

/** Limits of hierarchy inputs, documented in the README. */
export const LIMITS = {
  nameLength: 200,
  focusLength: 4000,
  actorIdLength: 200,
} as const;

/** Caller-chosen org ids are slugs: they end up in URLs, logs and cache keys. */
const ORG_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Actor ids come from the customer's own user ids: printable, no spaces. */
const ACTOR_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/;

export function validOrgId(orgId: string): string {
  if (!ORG_ID.test(orgId)) {
    throw new BadUserInputError(
      'orgId must be a slug: 1 to 63 lowercase letters, digits or hyphens, starting and ending with a letter or digit',
      { field: 'orgId' },
    );
  }
  return orgId;
}

export function validName(name: string, field = 'name'): string {
  const trimmed = name.trim();
  if (!trimmed) throw new BadUserInputError(`${field} must not be empty`, { field });
  if (trimmed.length > LIMITS.nameLength) {
    throw new BadUserInputError(`${field} must be at most ${LIMITS.nameLength} characters`, { field });
  }
  return trimmed;
}

export function validFocus(focus: string | null | undefined): string {
  const trimmed = (focus ?? '').trim();
  if (trimmed.length > LIMITS.focusLength) {
    throw new BadUserInputError(`focus must be at most ${LIMITS.focusLength} characters`, { field: 'focus' });
  }
  return trimmed;
}

export function validActorId(actorId: string): string {
  if (actorId.length > LIMITS.actorIdLength || !ACTOR_ID.test(actorId)) {
    throw new BadUserInputError(
      `actorId must be 1 to ${LIMITS.actorIdLength} characters: letters, digits and . _ : @ + - (no spaces)`,
      { field: 'actorId' },
    );
  }
  return actorId;
}
