/**
 * The servers the bench can start, without starting one: bench/servers/serve.ts runs each,
 * but `caregraph-workers`, which is `npm start` itself (src/main.ts) with WEB_CONCURRENCY=2.
 */
export const SERVER_MODES = [
  'n1',
  'l1',
  'caregraph',
  'caregraph-workers',
  'caregraph-plaintext',
  'caregraph-no-audit',
  'peer',
  'ceiling',
] as const;
export type ServerMode = (typeof SERVER_MODES)[number];
