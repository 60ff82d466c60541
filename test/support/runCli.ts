import { execFile } from 'node:child_process';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `src/cli/<script>.ts` as `npm run` does (node with tsx), with the test's environment
 * plus `env`; DATABASE_URL only when `env` sets it. Resolves with the exit code, never rejects.
 */
export function runCli(
  script: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  const base: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (env.DATABASE_URL === undefined) delete base.DATABASE_URL;
  if (env.NODE_ENV === undefined) delete base.NODE_ENV;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', `src/cli/${script}.ts`, ...args],
      { env: base },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** True when stderr holds a JavaScript stack frame. */
export function hasStackTrace(stderr: string): boolean {
  return /^\s+at .+[:(]/m.test(stderr);
}
