import type { Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/*
 * /metrics under WEB_CONCURRENCY answers the sum over every worker, whichever worker the scrape
 * lands on. The worker asks the primary, the primary collects every listening worker's
 * registry over IPC and sums them with prom-client's AggregatorRegistry.aggregate.
 *
 * prom-client's own clusterMetrics() asks every connected worker, a worker still loading its
 * modules too, and then fails the whole scrape after 5 s; asking only the workers that listen
 * keeps a scrape during a restart answered.
 */

const SCRAPE = 'caregraph:metrics-scrape';
const SCRAPED = 'caregraph:metrics-scraped';
const COLLECT = 'caregraph:metrics-collect';
const COLLECTED = 'caregraph:metrics-collected';

/** How long the primary waits for a worker's registry before the scrape fails. */
const COLLECT_TIMEOUT_MS = 2_000;
/** How long a worker waits for the primary's sum; longer, so the primary's reason comes first. */
const SCRAPE_TIMEOUT_MS = 3_000;

/** One registry as `getMetricsAsJSON` gives it, which is what `aggregate` sums. */
type RegistryJson = object[];

type Message =
  | { readonly type: typeof SCRAPE; readonly id: number }
  | { readonly type: typeof SCRAPED; readonly id: number; readonly text?: string }
  | { readonly type: typeof COLLECT; readonly id: number }
  | { readonly type: typeof COLLECTED; readonly id: number; readonly metrics?: RegistryJson };

/**
 * In a worker (`primary` is `cluster.worker`, its channel to the primary): answers the primary's collections with this registry (`getMetricsAsJSON` reads
 * every metric through `get()`, which folds the tallies in first), and returns what /metrics
 * serves: the sum over all workers, as Prometheus text.
 *
 * The returned function rejects when the primary or a worker does not answer in time.
 */
export function joinClusterMetrics(registry: Registry, primary: Worker): () => Promise<string> {
  const scrapes = new Map<number, (text: string | undefined) => void>();
  let nextId = 0;
  primary.on('message', (raw: unknown) => {
    const message = raw as Message;
    if (message.type === COLLECT) {
      registry.getMetricsAsJSON().then(
        (metrics) => primary.send({ type: COLLECTED, id: message.id, metrics }),
        () => primary.send({ type: COLLECTED, id: message.id }),
      );
    } else if (message.type === SCRAPED) {
      scrapes.get(message.id)?.(message.text);
    }
  });
  return () => {
    const id = nextId++;
    return answered(
      new Promise<string | undefined>((resolve) => {
        scrapes.set(id, resolve);
        primary.send({ type: SCRAPE, id });
      }),
      SCRAPE_TIMEOUT_MS,
      () => scrapes.delete(id),
    );
  };
}

export interface ClusterMetricsHub {
  /** Serves this worker's scrapes, and counts it in every sum once it listens. */
  add(worker: Worker): void;
}

/**
 * In the primary: answers each worker's scrape with the sum over the workers that listen now.
 * A worker that cannot answer fails the scrape rather than leaving its counters out of the
 * sum, which Prometheus would read as a counter reset.
 */
export function createClusterMetricsHub(): ClusterMetricsHub {
  const listening = new Set<Worker>();
  const collections = new Map<string, (metrics: RegistryJson | undefined) => void>();
  let nextId = 0;

  const collect = (worker: Worker, id: number): Promise<RegistryJson> => {
    const key = `${String(worker.id)}:${String(id)}`;
    return answered(
      new Promise<RegistryJson | undefined>((resolve) => {
        collections.set(key, resolve);
        worker.send({ type: COLLECT, id });
      }),
      COLLECT_TIMEOUT_MS,
      () => collections.delete(key),
    );
  };
  const sum = async (): Promise<string> => {
    const id = nextId++;
    const registries = await Promise.all([...listening].map((worker) => collect(worker, id)));
    return AggregatorRegistry.aggregate(registries).metrics();
  };

  return {
    add(worker) {
      worker.once('listening', () => listening.add(worker));
      worker.once('exit', () => listening.delete(worker));
      worker.on('message', (raw: unknown) => {
        const message = raw as Message;
        if (message.type === COLLECTED) {
          collections.get(`${String(worker.id)}:${String(message.id)}`)?.(message.metrics);
        } else if (message.type === SCRAPE) {
          const reply = (text?: string): void => {
            if (worker.isConnected()) worker.send({ type: SCRAPED, id: message.id, text });
          };
          sum().then(reply, () => {
            reply();
          });
        }
      });
    },
  };
}

/** The answer, or a rejection when it is missing or later than `timeoutMs`. */
async function answered<T>(
  answer: Promise<T | undefined>,
  timeoutMs: number,
  forget: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error('metrics collection timed out'));
    }, timeoutMs);
  });
  try {
    const value = await Promise.race([answer, late]);
    if (value === undefined) throw new Error('metrics collection failed');
    return value;
  } finally {
    clearTimeout(timer);
    forget();
  }
}
