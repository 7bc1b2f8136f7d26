import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * TypeORM records of the `hierarchy` schema. They are storage details: services see the
 * plain shapes in hierarchy-store.ts, never these classes.
 */

class PromptColumns {
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) focus!: string;
  @Column({ name: 'promotion_prompt', type: 'text' }) promotionPrompt!: string;
  @Column({ name: 'prompt_generator', type: 'text' }) promptGenerator!: string;
  @Column({ name: 'prompt_model', type: 'text', nullable: true }) promptModel!: string | null;
  @Column({ name: 'prompt_template_version', type: 'text' }) promptTemplateVersion!: string;
  @Column({ name: 'prompt_generated_at', type: 'timestamptz' }) promptGeneratedAt!: Date;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

@Entity({ name: 'orgs' })
export class OrgRecord extends PromptColumns {
  @PrimaryColumn({ name: 'org_id', type: 'text' }) id!: string;
}

@Entity({ name: 'roles' })
export class RoleRecord extends PromptColumns {
  @PrimaryColumn({ name: 'role_id', type: 'text' }) id!: string;
  @Column({ name: 'org_id', type: 'text' }) orgId!: string;
}

@Entity({ name: 'teams' })
export class TeamRecord extends PromptColumns {
  @PrimaryColumn({ name: 'team_id', type: 'text' }) id!: string;
  @Column({ name: 'org_id', type: 'text' }) orgId!: string;
}

@Entity({ name: 'actors' })
export class ActorRecord {
  @PrimaryColumn({ name: 'org_id', type: 'text' }) orgId!: string;
  @PrimaryColumn({ name: 'actor_id', type: 'text' }) actorId!: string;
  @Column({ name: 'role_id', type: 'text', nullable: true }) roleId!: string | null;
  @Column({ name: 'team_id', type: 'text', nullable: true }) teamId!: string | null;
  @Column({ name: 'display_name', type: 'text', nullable: true }) displayName!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

@Entity({ name: 'api_keys' })
export class ApiKeyRecord {
  @PrimaryColumn({ name: 'key_id', type: 'text' }) keyId!: string;
  @Column({ name: 'org_id', type: 'text', nullable: true }) orgId!: string | null;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) role!: 'platform' | 'admin' | 'member';
  @Column({ name: 'key_hash', type: 'text' }) keyHash!: string;
  @Column({ name: 'key_prefix', type: 'text' }) keyPrefix!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
}
