import { createOrgWithKeys, errorCodes, startTestStack, type TestStack } from '../support/stack';

describe('smoke', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.close());

  it('creates an org and reads it with a member key', async () => {
    const { memberKey } = await createOrgWithKeys(stack, 'smoke-org');
    const res = await stack.gql('{ org { orgId name roles { roleId } } }', {}, memberKey);
    expect(res.errors).toBeUndefined();
    expect(res.data!.org).toEqual({ orgId: 'smoke-org', name: 'smoke-org Inc', roles: [] });
    expect(errorCodes(await stack.gql('{ orgs { orgId } }'))).toEqual(['UNAUTHENTICATED']);
  });
});
