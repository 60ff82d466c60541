/**
 * The warmer's share of Postgres: a token bucket of SQL statements, refilled at `perSecond`
 * and holding at most one second's worth. `ready` waits until the bucket is positive; `spend`
 * takes what a batch actually issued, which may leave it in debt that the next batch waits out.
 * Over any stretch of a pass, the warmer then issues at most `perSecond` statements a second,
 * plus one second's burst.
 */
export interface StatementBudget {
  ready(): Promise<void>;
  spend(statements: number): void;
}

export function createStatementBudget(
  perSecond: number,
  clock: () => number = () => performance.now(),
): StatementBudget {
  let tokens = perSecond;
  let at = clock();
  const refill = () => {
    const now = clock();
    tokens = Math.min(perSecond, tokens + ((now - at) / 1000) * perSecond);
    at = now;
  };
  return {
    ready: async () => {
      refill();
      while (tokens < 1) {
        await new Promise((resolve) =>
          setTimeout(resolve, Math.ceil(((1 - tokens) / perSecond) * 1000)),
        );
        refill();
      }
    },
    spend: (statements) => {
      refill();
      tokens -= statements;
    },
  };
}
