import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../logger.js';
import { loadExplorerBundle, type ExplorerBundle } from './bundle.js';
import { EXPLORER_HEADERS, renderExplorerPage } from './page.js';
import { wantsExplorer } from './wantsExplorer.js';

export interface ExplorerOptions {
  /** The GraphQL endpoint, where a browser opens the explorer. */
  readonly graphqlPath: string;
  readonly logger: Logger;
  /** The bundle to serve; the one `npm run build:explorer` wrote when omitted. */
  readonly bundle?: ExplorerBundle;
}

/** Hashed names change with their content, so a browser may keep each file for good. */
const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * Serves the explorer: a browser's GET of the GraphQL endpoint (see wantsExplorer) gets the
 * GraphiQL page, without a token, since the page holds no data; its files are served under
 * `<graphqlPath>/explorer/`. Register it after the hooks that must see every request (request
 * id, draining) and before authentication.
 */
export function registerExplorer(app: FastifyInstance, options: ExplorerOptions): void {
  const bundle = options.bundle ?? loadExplorerBundle();
  const assetPath = `${options.graphqlPath}/explorer/`;
  if (!bundle.ready) {
    options.logger.error(
      { problem: bundle.problem },
      'explorer bundle unavailable; run `npm run build:explorer`',
    );
  }
  const page = bundle.ready ? renderExplorerPage(bundle.manifest, assetPath) : undefined;

  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' || request.routeOptions.url !== options.graphqlPath) {
      return undefined;
    }
    if (!wantsExplorer(request.url, request.headers.accept)) return undefined;
    // The endpoint answers HTML or JSON by Accept; a cache must keep the two apart. CORS may
    // have set Vary: Origin already.
    const vary = reply.getHeader('vary');
    void reply
      .headers(EXPLORER_HEADERS)
      .header('vary', typeof vary === 'string' && vary !== '' ? `${vary}, Accept` : 'Accept')
      .header('cache-control', 'no-store');
    if (page === undefined) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The explorer is not built on this server: run `npm run build:explorer`.\n');
    }
    return reply.code(200).type('text/html; charset=utf-8').send(page);
  });

  app.get<{ Params: { file: string } }>(`${assetPath}:file`, async (request, reply) => {
    const asset = bundle.ready ? bundle.assets.get(request.params.file) : undefined;
    if (asset === undefined) {
      reply.callNotFound();
      return reply;
    }
    return reply
      .headers(EXPLORER_HEADERS)
      .header('cache-control', ASSET_CACHE_CONTROL)
      .type(asset.contentType)
      .send(asset.body);
  });
}
