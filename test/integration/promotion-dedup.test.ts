import {
  collapsePromotedCopies,
  type CollapsibleItem,
} from '../../subgraphs/memory/services/promotion-dedup';
import type { ScopeLevel } from '../../subgraphs/memory/storage/memory-store';

/** Issue 6, retrieval: an actor never gets its own memory and the promoted copy as two items. */
describe('collapsePromotedCopies', () => {
  function item(id: string, level: ScopeLevel, sourceMemoryIds: string[] = []): CollapsibleItem {
    return {
      memory: {
        id,
        scope: { level, id: `${level.toLowerCase()}-1` },
        provenance: {
          eventIds: [],
          documentId: null,
          documentVersion: null,
          chunkIndex: null,
          sourceMemoryIds,
        },
      },
      why: [`rank of ${id}`],
    };
  }

  it("keeps the actor's own copy, drops the role's copy promoted from it and names it in the reasons", () => {
    const own = item('own', 'ACTOR');
    const other = item('other', 'ACTOR');
    const role = item('role', 'ROLE', ['own', 'someone-else']);
    const result = collapsePromotedCopies([role, own, other]);
    expect(result.map((i) => i.memory.id)).toEqual(['own', 'other']);
    expect(result[0]!.why).toEqual(['rank of own', 'also promoted to ROLE role-1 as role']);
    expect(result[1]).toBe(other);
    // The input is left as it was.
    expect(own.why).toEqual(['rank of own']);
  });

  it('collapses a chain org ← role ← actor onto the actor, and org ← role onto the role', () => {
    const own = item('own', 'ACTOR');
    const role = item('role', 'ROLE', ['own']);
    const org = item('org', 'ORG', ['role', 'team']);
    expect(collapsePromotedCopies([org, role, own]).map((i) => [i.memory.id, i.why])).toEqual([
      ['own', ['rank of own', 'also promoted to ORG org-1 as org', 'also promoted to ROLE role-1 as role']],
    ]);
    expect(collapsePromotedCopies([org, role]).map((i) => [i.memory.id, i.why])).toEqual([
      ['role', ['rank of role', 'also promoted to ORG org-1 as org']],
    ]);
  });

  it('keeps a promoted memory whose sources are not in the list (a new member of the role gets it)', () => {
    const role = item('role', 'ROLE', ['a', 'b', 'c']);
    const unrelated = item('mine', 'ACTOR');
    expect(collapsePromotedCopies([role, unrelated])).toEqual([role, unrelated]);
  });

  it('never drops a more specific memory for a more general one, even if provenance pointed that way', () => {
    const org = item('org', 'ORG');
    const odd = item('odd', 'ACTOR', ['org']);
    expect(collapsePromotedCopies([odd, org]).map((i) => i.memory.id)).toEqual(['odd', 'org']);
  });
});
