import type { Memory, ScopeLevel } from '../storage/memory-store';

const SPECIFICITY: Record<ScopeLevel, number> = { ACTOR: 0, ROLE: 1, TEAM: 2, ORG: 3, WORLD: 4 };

/** What collapsing needs of a ranked item: its memory, and the reasons behind its rank. */
export interface CollapsibleItem {
  memory: Pick<Memory, 'id' | 'scope' | 'provenance'>;
  why: string[];
}

/**
 * Issue 6, retrieval: an actor who is a source of a promoted memory must not get the same
 * statement twice, once as its own memory and once as the role's (or team's, or org's) copy.
 *
 * Of such a pair the **more specific copy is kept** (the actor's own; a role memory over the
 * org memory promoted from it) and the general copy is dropped, named in the kept item's
 * reasons (`also promoted to ROLE r1 as <id>`). Why this way round: it is the same rule the
 * scope-chain merge applies everywhere (the more specific scope ranks first and wins); the
 * specific copy is in the actor's own words and follows the actor's own history, so when the
 * actor changes their mind their copy is superseded and the promoted copy (still the role's
 * view) comes back by itself; and the promoted copy adds only "others share this", which the
 * explanation carries.
 *
 * Copies are recognised by provenance only: a memory whose `sourceMemoryIds` names another
 * item of the list (directly, or through an intermediate copy in the list: org ← role ←
 * actor). Items keep their order; the result is a new array, the input is not changed.
 */
export function collapsePromotedCopies<T extends CollapsibleItem>(items: readonly T[]): T[] {
  const byId = new Map(items.map((item) => [item.memory.id, item]));
  const representative = new Map<string, T>();
  const resolve = (item: T, seen: Set<string>): T => {
    const known = representative.get(item.memory.id);
    if (known) return known;
    let result = item;
    // The most specific source present in the list stands for this item.
    const sources = item.memory.provenance.sourceMemoryIds
      .map((id) => byId.get(id))
      .filter((source): source is T => source !== undefined && !seen.has(source.memory.id))
      .sort((a, b) => SPECIFICITY[a.memory.scope.level] - SPECIFICITY[b.memory.scope.level]);
    for (const source of sources) {
      if (SPECIFICITY[source.memory.scope.level] > SPECIFICITY[item.memory.scope.level]) continue;
      result = resolve(source, new Set([...seen, item.memory.id]));
      break;
    }
    representative.set(item.memory.id, result);
    return result;
  };
  const dropped = new Map<string, T[]>();
  for (const item of items) {
    const kept = resolve(item, new Set());
    if (kept !== item) dropped.set(kept.memory.id, [...(dropped.get(kept.memory.id) ?? []), item]);
  }
  return items
    .filter((item) => resolve(item, new Set()) === item)
    .map((item) => {
      const copies = dropped.get(item.memory.id);
      if (!copies) return item;
      return {
        ...item,
        why: [
          ...item.why,
          ...copies.map(
            (copy) =>
              `also promoted to ${copy.memory.scope.level} ${copy.memory.scope.id} as ${copy.memory.id}`,
          ),
        ],
      };
    });
}
