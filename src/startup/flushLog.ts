import { symbols } from 'pino';
import type { Logger } from '../logger.js';

/**
 * Writes out, synchronously, the lines the logger's destination still holds. pino writes to
 * standard output asynchronously, so without this a line logged before a failed start can
 * land after the error printed on standard error, and look like the start went on.
 */
export function flushLog(logger: Logger | undefined): void {
  if (logger === undefined) return;
  const stream = (logger as unknown as Record<symbol, unknown>)[symbols.streamSym] as
    { flushSync?: () => void } | undefined;
  try {
    stream?.flushSync?.();
  } catch {
    // A destination that is not open yet, or already closed, holds nothing left to order.
  }
}
