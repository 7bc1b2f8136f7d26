import 'reflect-metadata';
import { PageInfo } from '../../../common/graphql-types';
import { Directive, Field, ID, InputType, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'How a promotion prompt was generated.' })
export class PromptMeta {
  @Field({ description: '`llm` or `template`.' }) generator!: string;
  @Field(() => String, { nullable: true, description: 'Model that wrote the prompt; null for templates.' })
  model!: string | null;
  @Field({ description: 'Version of the template or LLM instruction used.' }) templateVersion!: string;
  @Field() generatedAt!: Date;
}

// Shared fields of Org, Role and Team. Abstract and referenced by no field, so it is not emitted.
@ObjectType()
abstract class HierarchyNodeFields {
  @Field({ description: 'Display name.' }) name!: string;
  @Field({ description: 'Description used to generate the promotion prompt.' }) focus!: string;
  @Field({ description: 'Auto-generated extraction prompt for this scope (seed 000).' })
  promotionPrompt!: string;
  @Field(() => PromptMeta) promptMeta!: PromptMeta;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

@ObjectType({ description: 'A tenant: everything in Memsy belongs to exactly one org.' })
export class Org extends HierarchyNodeFields {
  @Field(() => ID) orgId!: string;
}

@ObjectType({ description: 'A job function within an org ("Backend Engineer"). Independent of teams.' })
export class Role extends HierarchyNodeFields {
  @Field(() => ID) roleId!: string;
  @Field(() => ID) orgId!: string;
}

@ObjectType({ description: 'A group of actors that share context ("Platform Team", a customer account).' })
export class Team extends HierarchyNodeFields {
  @Field(() => ID) teamId!: string;
  @Field(() => ID) orgId!: string;
}

@Directive('@key(fields: "actorId orgId")')
@ObjectType({ description: 'An end user of an org; may carry a role and a team at the same time.' })
export class Actor {
  @Field(() => ID) actorId!: string;
  @Field(() => ID) orgId!: string;
  @Field(() => ID, { nullable: true }) roleId!: string | null;
  @Field(() => ID, { nullable: true }) teamId!: string | null;
  @Field(() => String, { nullable: true }) displayName!: string | null;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

@ObjectType({ description: 'An API key. The secret itself is only ever shown by createApiKey.' })
export class ApiKey {
  @Field(() => ID) keyId!: string;
  @Field(() => ID, { nullable: true, description: 'Null for the platform admin key.' }) orgId!: string | null;
  @Field() name!: string;
  @Field({ description: 'True for org admin (and platform) keys.' }) admin!: boolean;
  @Field({ description: '`platform`, `admin` or `member`.' }) role!: string;
  @Field({ description: 'First characters of the key, to tell keys apart.' }) keyPrefix!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;
}

@ObjectType({ description: 'A new API key. `key` is shown this once and stored only as a hash.' })
export class CreatedApiKey {
  @Field(() => ID) keyId!: string;
  @Field() key!: string;
  @Field(() => ApiKey) apiKey!: ApiKey;
}

@ObjectType({ description: 'The identity behind the API key of this request.' })
export class Viewer {
  @Field(() => ID, { nullable: true }) keyId!: string | null;
  @Field(() => ID, { nullable: true }) orgId!: string | null;
  @Field({ description: '`platform`, `admin`, `member` or `service`.' }) role!: string;
}

@InputType()
export class CreateOrgInput {
  @Field({ description: 'Caller-chosen slug: lowercase letters, digits and hyphens.' }) orgId!: string;
  @Field() name!: string;
  @Field(() => String, { nullable: true }) focus?: string | null;
}

@InputType({ description: 'Create input of roles and teams.' })
export class CreateLevelInput {
  @Field(() => ID, { nullable: true, description: 'May be omitted when the key belongs to one org.' })
  orgId?: string | null;
  @Field() name!: string;
  @Field(() => String, { nullable: true }) focus?: string | null;
}

@InputType({
  description: 'Fields left out stay as they are. The prompt is regenerated when name or focus changes.',
})
export class UpdateHierarchyInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) focus?: string | null;
}

@InputType()
export class UpsertActorInput {
  @Field(() => ID, { nullable: true }) orgId?: string | null;
  @Field(() => ID) actorId!: string;
  @Field(() => ID, { nullable: true }) roleId?: string | null;
  @Field(() => ID, { nullable: true }) teamId?: string | null;
  @Field(() => String, { nullable: true }) displayName?: string | null;
}

@ObjectType()
export class ActorEdge {
  @Field() cursor!: string;
  @Field(() => Actor) node!: Actor;
}

@ObjectType({ description: 'Relay-style page of actors.' })
export class ActorConnection {
  @Field(() => [Actor]) nodes!: Actor[];
  @Field(() => [ActorEdge]) edges!: ActorEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

export const FirstArg = {
  type: () => Int,
  nullable: true,
  description: 'Page size (default 50, at most 500).',
};
