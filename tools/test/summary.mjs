#!/usr/bin/env node
// Adds up Jest's JSON reports and prints one closing line, "tests: N passed, N failed",
// which CI reads; exits non-zero when anything failed or no test ran at all.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let suitesFailed = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.error(`[test] missing report ${file}: that stage did not run`);
    process.exit(1);
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  suitesFailed += report.numFailedTestSuites;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || suitesFailed > 0 || passed === 0 ? 1 : 0);
