import { renderGraphiQL } from '@graphql-yoga/render-graphiql';

const DEFAULT_QUERY = `# Welcome to Memsy. Put your API key in the Headers tab below:
#   { "Authorization": "Bearer msy_YOUR_API_KEY" }
# npm start printed the platform admin key.

query Orgs {
  orgs {
    orgId
    name
    focus
    promotionPrompt
  }
}
`;

let page: string | undefined;

/**
 * The GraphiQL page, self-contained: its JavaScript, CSS and editor workers are inlined from
 * the installed package, so nothing is fetched from a CDN. Rendered once (it is ~9 MB).
 */
export function graphiqlPage(): string {
  page ??= renderGraphiQL({
    title: 'Memsy GraphiQL',
    endpoint: '/graphql',
    subscriptionsProtocol: 'WS',
    defaultQuery: DEFAULT_QUERY,
    // ASCII only: browsers refuse header values outside ISO-8859-1 (e.g. '…') in fetch().
    headers: JSON.stringify({ Authorization: 'Bearer msy_YOUR_API_KEY' }, null, 2),
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    defaultEditorToolsVisibility: 'headers',
  });
  return page;
}
