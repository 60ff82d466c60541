import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';

/**
 * Names every skipped test at the end of a run, beside the default reporter's count: a test
 * that skips for lack of a service (Redis, Postgres) is otherwise one anonymous number. In CI
 * (CI=true) a skipped test fails the run: CI has every service, so a skip there is a test that
 * did not run when it should have. Tests left out by a name filter (`-t`) are not skips.
 */
export default class SkippedTestsReporter implements Reporter {
  private filtered = false;
  private readonly ci: boolean;

  constructor(options: { ci?: boolean } = {}) {
    this.ci = options.ci ?? process.env.CI === 'true';
  }

  onInit(vitest: Vitest): void {
    this.filtered = vitest.config.testNamePattern !== undefined;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (this.filtered) return;
    const skipped = testModules.flatMap((module) => [...module.children.allTests('skipped')]);
    if (skipped.length === 0) return;
    const lines = skipped.map((test) => `  skipped: ${describeSkip(test)}`);
    const summary = `${String(skipped.length)} skipped test${skipped.length === 1 ? '' : 's'}`;
    if (this.ci) {
      process.stderr.write(
        `\n${lines.join('\n')}\n${summary}: CI has every service, so no test may skip there.\n\n`,
      );
      process.exitCode = 1;
    } else {
      process.stdout.write(`\n${lines.join('\n')}\n${summary}\n\n`);
    }
  }
}

/** `<file> > <suite> > <test> (<why>)`; why is the note of `ctx.skip(note)`, or the mode. */
export function describeSkip(test: TestCase): string {
  const result = test.result();
  const note = result.state === 'skipped' ? result.note : undefined;
  const why = note ?? (test.options.mode === 'todo' ? 'todo' : undefined);
  return `${test.module.relativeModuleId} > ${test.fullName}${why === undefined ? '' : ` (${why})`}`;
}
