import type { ExplorerManifest } from './manifest.js';

/**
 * The explorer's Content-Security-Policy, on the page and on every file of the bundle (a worker
 * runs under the policy its own script arrives with).
 * - Scripts and workers come from this server only: no inline script, no eval, no blob: worker.
 * - Styles allow 'unsafe-inline' because Monaco writes its theme and layout rules into <style>
 *   elements at run time and takes no nonce; a style cannot run code or send data past
 *   connect-src and img-src.
 * - Fonts and images may be data: URIs (GraphiQL's stylesheet inlines its fonts and icons).
 * - Requests go to this server only; no page may frame the explorer.
 */
export const EXPLORER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every explorer response carries, the page and its assets alike. */
export const EXPLORER_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': EXPLORER_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * The explorer page: the bundle's stylesheet and script, a one-line hint on where the token
 * goes, and the element GraphiQL renders into. No inline script or style (see EXPLORER_CSP).
 *
 * @param assetPath the URL path the bundle's files are served under, ending in `/`.
 */
export function renderExplorerPage(manifest: ExplorerManifest, assetPath: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>caregraph explorer</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${assetPath}${manifest.style}" />
    <script defer src="${assetPath}${manifest.script}"></script>
  </head>
  <body>
    <p class="caregraph-hint">
      Paste a bearer token into <strong>Headers</strong>:
      <code>{"Authorization": "Bearer &lt;token&gt;"}</code> &mdash; <code>npm start</code> prints
      development tokens, <code>npm run token</code> signs one. It goes with every request and
      is never stored.
    </p>
    <div id="explorer"></div>
  </body>
</html>
`;
}
