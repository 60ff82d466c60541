import { context, SpanKind, trace, type Attributes, type Span } from '@opentelemetry/api';
import {
  ATTR_DB_OPERATION_BATCH_SIZE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
} from '@opentelemetry/semantic-conventions';
import type { CacheStore } from '../cache/store.js';
import type { Tracing } from './createTracing.js';
import { markFailed } from './spanErrors.js';

const ATTR_CACHE_LAYER = 'caregraph.cache.layer';
const ATTR_CACHE_STORE = 'caregraph.cache.store';
const ATTR_KEYS_FOUND = 'caregraph.cache.keys_found';
const ATTR_KEYS_WRITTEN = 'caregraph.cache.keys_written';
const ATTR_NODES = 'caregraph.cache.nodes';

/**
 * L2 with one span per round trip to the store (`l2.get`: one MGET; `l2.set`: one MULTI; on a
 * Redis Cluster one command per slot, sent together, and `caregraph.cache.nodes` says how many
 * nodes they went to). Spans say how many keys a command carried and how many it found; never
 * a key, which names tenants and patients. Only round trips of a traced request get a span:
 * the warmer's and the feed's background commands are not traced.
 */
export function traceStore(store: CacheStore, tracing: Tracing): CacheStore {
  if (!tracing.enabled) return store;
  const { tracer } = tracing;
  const system = store.kind === 'redis' ? { [ATTR_DB_SYSTEM_NAME]: 'redis' } : {};
  const run = async <T>(
    name: string,
    command: string,
    keys: number,
    work: () => Promise<T>,
    counted?: readonly [attribute: string, count: (value: T) => number],
  ): Promise<T> => {
    const parent = trace.getActiveSpan();
    if (parent === undefined || !parent.isRecording()) return work();
    const attributes: Attributes = {
      ...system,
      [ATTR_CACHE_LAYER]: 'l2',
      [ATTR_CACHE_STORE]: store.kind,
      [ATTR_DB_OPERATION_BATCH_SIZE]: keys,
    };
    if (store.kind === 'redis') attributes[ATTR_DB_OPERATION_NAME] = command;
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
    try {
      const value = await context.with(trace.setSpan(context.active(), span), work);
      if (counted !== undefined) span.setAttribute(counted[0], counted[1](value));
      return value;
    } catch (error) {
      markFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  };
  return {
    ...store,
    kind: store.kind,
    getMany: (keys) =>
      run('l2.get', 'MGET', keys.length, () => store.getMany(keys), [
        ATTR_KEYS_FOUND,
        (values) => values.reduce((n, v) => (v === undefined ? n : n + 1), 0),
      ]),
    setMany: (entries, touch = []) =>
      run('l2.set', 'MULTI', entries.length + touch.length, () => store.setMany(entries, touch)),
    setManyIfAbsent: (entries) =>
      run('l2.setIfAbsent', 'MULTI', entries.length, () => store.setManyIfAbsent(entries), [
        ATTR_KEYS_WRITTEN,
        (written) => written.reduce((n, w) => (w ? n + 1 : n), 0),
      ]),
    ping: () => run('l2.ping', 'PING', 0, () => store.ping()),
    close: () => store.close(),
  };
}

/** On a Redis Cluster: records on the active L2 span how many nodes its command went to. */
export function noteRoundTripNodes(nodes: number): void {
  const span: Span | undefined = trace.getActiveSpan();
  if (span?.isRecording() === true) span.setAttribute(ATTR_NODES, nodes);
}
