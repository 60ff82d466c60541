/* global document, window, fetch, sessionStorage, clearTimeout, setTimeout */
// The explorer page's script: GraphiQL over this server's /graphql, with whatever headers the
// developer pastes into the header editor. The page holds no data of its own; every request it
// sends carries the pasted token and is authorized like any other.
import './monacoWorkers.js';
import 'graphiql/style.css';
import './explorer.css';
import { GraphiQL } from 'graphiql';
import { createElement, useCallback, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';

// The page is served at the GraphQL endpoint itself, so its path is where operations go.
const ENDPOINT = window.location.pathname;
const CLIENT_NAME = 'caregraph-explorer';

const DEFAULT_HEADERS = `{
  "Authorization": "Bearer <paste a token here>"
}`;

const DEFAULT_QUERY = `# caregraph explorer
#
# 1. Paste a bearer token into Headers below, replacing <paste a token here>.
#    \`npm start\` prints development tokens; \`npm run token\` signs one.
# 2. The schema (docs, completion) loads as soon as the token changes.
# 3. Run an operation with Ctrl+Enter or the run button.

query Departments {
  departments {
    id
    name
  }
}
`;

/**
 * A GraphiQL fetcher: one POST per operation, JSON in and out. The developer's headers come
 * last, so they may override the client name.
 */
function createFetcher() {
  return async (params, options) => {
    const response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: {
        accept: 'application/graphql-response+json, application/json',
        'content-type': 'application/json',
        'apollographql-client-name': CLIENT_NAME,
        ...options?.headers,
      },
      body: JSON.stringify(withCurrentOperationName(params)),
    });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      return { errors: [{ message: `HTTP ${response.status}: the answer is not JSON` }] };
    }
  };
}

/**
 * GraphiQL reads the operation name from the editor a moment after each change, so a run right
 * after a paste can carry the name of the operation that was there before, which the server
 * refuses (OPERATION_RESOLUTION_FAILURE). A name the document no longer defines is dropped:
 * the server then runs the document's only operation, or says that it needs a name.
 */
function withCurrentOperationName(params) {
  const name = params.operationName;
  // Only a GraphQL name can be looked for; anything else goes to the server as it is.
  if (typeof name !== 'string' || !/^[_A-Za-z][_0-9A-Za-z]*$/.test(name)) return params;
  if (typeof params.query !== 'string') return params;
  const defined = new RegExp(`\\b(query|mutation|subscription)\\s+${name}\\b`).test(params.query);
  return defined ? params : { ...params, operationName: undefined };
}

/** The Authorization value of the header editor's JSON, or undefined while it does not parse. */
function authorizationOf(headersText) {
  try {
    const headers = JSON.parse(headersText);
    const name = Object.keys(headers).find((key) => key.toLowerCase() === 'authorization');
    return name === undefined ? '' : String(headers[name]);
  } catch {
    return undefined;
  }
}

function Explorer() {
  // GraphiQL introspects when it mounts and whenever its fetcher changes. The schema needs a
  // token, so a new token gets a new fetcher, and with it the schema.
  const [fetcher, setFetcher] = useState(createFetcher);
  const lastAuthorization = useRef(authorizationOf(DEFAULT_HEADERS));
  const pending = useRef(undefined);
  const onEditHeaders = useCallback((text) => {
    clearTimeout(pending.current);
    // Typed tokens arrive a character at a time; wait for the typing to pause.
    pending.current = setTimeout(() => {
      const authorization = authorizationOf(text);
      if (authorization === undefined || authorization === lastAuthorization.current) return;
      lastAuthorization.current = authorization;
      setFetcher(createFetcher);
    }, 300);
  }, []);
  return createElement(GraphiQL, {
    fetcher,
    onEditHeaders,
    defaultHeaders: DEFAULT_HEADERS,
    defaultQuery: DEFAULT_QUERY,
    defaultEditorToolsVisibility: 'headers',
    // Tabs and history hold query text, variables and responses: in the tab's session storage
    // they go when the tab closes, rather than staying on disk in localStorage. Headers, and
    // with them the token, are never stored (shouldPersistHeaders stays false).
    storage: sessionStorage,
  });
}

createRoot(document.getElementById('explorer')).render(createElement(Explorer));
