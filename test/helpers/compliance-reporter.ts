/**
 * Lists the driver compliance suites at the end of a run, one line per driver with its scenarios
 * passed. The default reporter names only a test file when its tests are fast, and the compliance
 * suite's point is which drivers it ran over; the names are the `describeDriverCompliance` suites'.
 */
import type { Reporter, TestModule } from 'vitest/node';
import { COMPLIANCE_SUITE_PREFIX } from '../drivers/suite-name.js';

export default class ComplianceReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const testModule of testModules) {
      for (const suite of testModule.children.allSuites()) {
        if (!suite.name.startsWith(COMPLIANCE_SUITE_PREFIX)) continue;
        const tests = [...suite.children.allTests()];
        const passed = tests.filter((test) => test.result().state === 'passed').length;
        const mark = passed === tests.length ? '✓' : '×';
        lines.push(`   ${mark} ${suite.name}: ${passed} of ${tests.length} scenarios passed (${testModule.moduleId.replace(/^.*\/test\//, 'test/')})`);
      }
    }
    if (lines.length > 0) process.stdout.write(`\n Driver compliance suites\n${lines.join('\n')}\n\n`);
  }
}
