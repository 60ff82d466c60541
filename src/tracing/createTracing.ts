import { context, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Environment, TracingConfig } from '../config.js';
import { createExportAgent } from './exportAgent.js';

/**
 * The service's tracer and its lifecycle. Factories take it and instrument their seams only
 * when `enabled` is true, so that with tracing off the hot path runs exactly the code it ran
 * before: no wrapper, no span, no attribute object.
 */
export interface Tracing {
  readonly enabled: boolean;
  /** The service's tracer; the API's no-op tracer when tracing is off. */
  readonly tracer: Tracer;
  /**
   * Exports what is buffered, then stops the provider; waits SHUTDOWN_WAIT_MS at most, so that
   * a collector that hangs never holds up the process's exit. Resolves at once when off.
   */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /**
   * Span processors that replace the OTLP exporter (the tests' in-memory exporter behind a
   * SimpleSpanProcessor). Tracing is on when these are given, whatever the config says.
   */
  readonly spanProcessors?: ReadonlyArray<SpanProcessor>;
  readonly environment?: Environment;
}

/** Tracing off: what every factory assumes when it is given none. */
export const NO_TRACING: Tracing = Object.freeze({
  enabled: false,
  tracer: trace.getTracer('caregraph'),
  shutdown: () => Promise.resolve(),
});

// Exporter settings passed in full, so that the SDK does not fill them from OTEL_BSP_*.
const BATCH = {
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 2_000,
  exportTimeoutMillis: 10_000,
};

const SHUTDOWN_WAIT_MS = 3_000;

/**
 * Tracing from the configuration: spans exported over OTLP/HTTP (JSON) to
 * `config.exportUrl`, or NO_TRACING when it is unset. The provider is never registered as the
 * global one: code that reaches for `trace.getTracer()` (a dependency's own instrumentation,
 * which might record query text or parameters) keeps the no-op tracer. Only the context
 * manager is global, as async context propagation requires.
 */
export function createTracing(config: TracingConfig, options: TracingOptions = {}): Tracing {
  const processors =
    options.spanProcessors ??
    (config.exportUrl === undefined
      ? undefined
      : [
          new BatchSpanProcessor(
            new OTLPTraceExporter({
              url: config.exportUrl,
              headers: { ...config.headers },
              timeoutMillis: 10_000,
              httpAgentOptions: createExportAgent,
            }),
            BATCH,
          ),
        ]);
  if (processors === undefined) return NO_TRACING;
  useAsyncContext();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName,
      ...(options.environment === undefined
        ? {}
        : { 'deployment.environment.name': options.environment }),
    }),
    // A caller's sampling decision (the traceparent flag) is kept; a trace started here is.
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    // Values are short by construction (codes, table names); the limit is a backstop.
    spanLimits: { attributeValueLengthLimit: 256, attributeCountLimit: 64, eventCountLimit: 16 },
    spanProcessors: [...processors],
  });
  return {
    enabled: true,
    tracer: provider.getTracer('caregraph'),
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
      });
      // A failed last export loses spans, never the shutdown.
      await Promise.race([provider.shutdown().catch(() => undefined), waited]);
      clearTimeout(timer);
    },
  };
}

let contextManager: AsyncLocalStorageContextManager | undefined;

/** Registers AsyncLocalStorage context propagation once per process. */
function useAsyncContext(): void {
  if (contextManager !== undefined) return;
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
}
