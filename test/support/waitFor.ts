/**
 * Polls `probe` until it answers something other than undefined or false, and resolves to
 * that; throws, naming `what`, once `timeoutMs` has passed. For waiting on background work
 * (a pass, a lease, a feed): a bound on a test's patience, not a timed assertion.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
