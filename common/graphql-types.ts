import 'reflect-metadata';
import { Directive, Field, ObjectType } from 'type-graphql';

/** Relay page info, shared by every subgraph's connections (hence `@shareable`). */
@Directive('@shareable')
@ObjectType()
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}
