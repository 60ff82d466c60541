/** The servers the bench can start (bench/servers/serve.ts), without starting one. */
export const SERVER_MODES = [
  'n1',
  'l1',
  'caregraph',
  'caregraph-plaintext',
  'caregraph-no-audit',
  'peer',
  'ceiling',
] as const;
export type ServerMode = (typeof SERVER_MODES)[number];
