/** A JUnit XML report of a script run: one test suite, one test case per step (CI systems read it). */
import type { StepResult } from './run-script.ts';

const escape = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
  // Characters XML 1.0 cannot hold at all (serial logs carry control codes).
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

export function junitReport(suite: string, results: readonly StepResult[], systemOut = ''): string {
  const failures = results.filter((r) => r.status === 'failed').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = results.reduce((n, r) => n + r.ms, 0);
  const cases = results.map((r) => {
    const name = escape(`${r.step.line}: ${r.step.text}`);
    const head = `    <testcase classname="${escape(suite)}" name="${name}" time="${seconds(r.ms)}"`;
    if (r.status === 'passed') return `${head}/>`;
    if (r.status === 'skipped') return `${head}>\n      <skipped/>\n    </testcase>`;
    return `${head}>\n      <failure message="${escape(r.message ?? 'failed')}">${escape(r.message ?? '')}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${results.length}" failures="${failures}" skipped="${skipped}" time="${seconds(total)}">`,
    `  <testsuite name="${escape(suite)}" tests="${results.length}" failures="${failures}" skipped="${skipped}" time="${seconds(total)}">`,
    ...cases,
    `    <system-out>${escape(systemOut)}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
