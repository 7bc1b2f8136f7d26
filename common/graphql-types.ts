import 'reflect-metadata';
import { Directive, Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';

/** Relay page info, shared by every subgraph's connections (hence `@shareable`). */
@Directive('@shareable')
@ObjectType()
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

/** Scope levels, from most to least specific (DESIGN.md section 2). */
export enum ScopeLevel {
  ACTOR = 'ACTOR',
  ROLE = 'ROLE',
  TEAM = 'TEAM',
  ORG = 'ORG',
  WORLD = 'WORLD',
}
registerEnumType(ScopeLevel, { name: 'ScopeLevel', description: 'From most to least specific.' });

/** Where a memory, entity or context item lives; shared by the subgraphs that return it. */
@Directive('@shareable')
@ObjectType({ description: 'Where a memory (or entity, or context item) lives.' })
export class Scope {
  @Field(() => ScopeLevel) level!: ScopeLevel;
  @Field(() => ID, { description: 'The actor, role, team or org id.' }) id!: string;
}

@InputType({ description: 'A scope, as a filter.' })
export class ScopeInput {
  @Field(() => ScopeLevel) level!: ScopeLevel;
  @Field(() => ID) id!: string;
}
