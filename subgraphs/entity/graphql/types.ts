import 'reflect-metadata';
import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { PageInfo, Scope, ScopeInput, ScopeLevel } from '../../../common/graphql-types';

export { Scope, ScopeInput, ScopeLevel };

@Directive('@key(fields: "id")')
@ObjectType({
  description: 'A person, product, team, term or place that memories mention, resolved per scope.',
})
export class Entity {
  @Field(() => ID) id!: string;
  @Field(() => ID) orgId!: string;
  @Field() name!: string;
  @Field({ description: 'PERSON, ORGANIZATION, PRODUCT, PLACE, DATE, MONEY, EMAIL, PHONE, URL or TERM.' })
  type!: string;
  @Field(() => [String]) aliases!: string[];
  @Field(() => Scope) scope!: Scope;
  @Field() createdAt!: Date;
}

@ObjectType({ description: 'A typed relationship between two entities of one org.' })
export class Relationship {
  @Field(() => ID) id!: string;
  @Field() type!: string;
  @Field(() => ID) fromId!: string;
  @Field(() => ID) toId!: string;
  @Field(() => ID, { nullable: true, description: 'The memory it was learned from.' }) memoryId!:
    string | null;
  @Field() createdAt!: Date;
}

@ObjectType({ description: 'A piece of the graph: entities and the relationships between them.' })
export class EntityGraph {
  @Field(() => [Entity]) entities!: Entity[];
  @Field(() => [Relationship]) relationships!: Relationship[];
}

/**
 * The memory subgraph's Memory, extended here with its entities. `orgId` comes from the
 * memory subgraph (`@requires`), so entities are looked up in the memory's own org.
 */
@Directive('@key(fields: "id")')
@ObjectType()
export class Memory {
  @Field(() => ID) id!: string;
  @Directive('@external')
  @Field(() => ID)
  orgId!: string;
}

@ObjectType()
export class EntityEdge {
  @Field() cursor!: string;
  @Field(() => Entity) node!: Entity;
}

@ObjectType()
export class EntityConnection {
  @Field(() => [Entity]) nodes!: Entity[];
  @Field(() => [EntityEdge]) edges!: EntityEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}
