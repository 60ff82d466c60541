import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { graphqlErrorBody } from './graphqlErrorBody.js';

export interface MetricsEndpointDeps {
  readonly registry: Registry;
  /**
   * What /metrics answers, as Prometheus text: this process's registry when omitted. A cluster
   * worker answers the sum over every worker.
   */
  readonly scrapeMetrics?: (() => Promise<string>) | undefined;
  readonly logger: Logger;
}

/** Adds `GET /metrics` to `app`. */
export function registerMetricsRoute(app: FastifyInstance, deps: MetricsEndpointDeps): void {
  const { registry, logger } = deps;
  const scrapeMetrics = deps.scrapeMetrics ?? (() => registry.metrics());
  app.get('/metrics', async (_request, reply) => {
    try {
      return await reply.type(registry.contentType).send(await scrapeMetrics());
    } catch (error) {
      // A partial sum would read as a counter reset; Prometheus records a failed scrape instead.
      logger.warn({ err: error }, 'metrics of every worker could not be collected');
      return reply.code(503).type('text/plain').send('metrics unavailable\n');
    }
  });
}

/** The listener of METRICS_PORT: `/metrics` and nothing else. */
export interface MetricsListener {
  /** Starts listening on its host and port; resolves with its origin (`http://host:port`). */
  listen(): Promise<string>;
  /** Stops listening, once the scrapes in flight are answered. */
  close(): Promise<void>;
}

/**
 * A second HTTP listener that serves only `/metrics`, so that the public one need not. Under
 * WEB_CONCURRENCY every worker listens on the same port through node:cluster, as it does on
 * PORT, and whichever worker a scrape lands on answers the sum over all of them.
 */
export function createMetricsListener(
  deps: MetricsEndpointDeps & { readonly host: string; readonly port: number },
): MetricsListener {
  const logger: FastifyBaseLogger = deps.logger;
  const app = fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerMetricsRoute(app, deps);
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(graphqlErrorBody('Not found', ErrorCode.NotFound)),
  );
  return {
    listen: () =>
      app.listen({
        host: deps.host,
        port: deps.port,
        // Not "Server listening at": that line announces the API's own listener.
        listenTextResolver: (address) => `Metrics listening at ${address}`,
      }),
    close: () => app.close(),
  };
}
