import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Everything of a span that an exporter sends: what must never hold PHI. */
export function exportedSpan(span: ReadableSpan) {
  return {
    name: span.name,
    attributes: span.attributes,
    events: span.events,
    links: span.links,
    status: span.status,
    resource: span.resource.attributes,
    scope: span.instrumentationScope,
  };
}
