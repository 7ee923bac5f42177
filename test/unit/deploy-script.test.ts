// ./deploy_stack.sh on a machine without a Docker engine: it says what to do,
// naming its own option (not another script's).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('./deploy_stack.sh without an engine', () => {
  it('names its own --install-docker option when only a docker client is there', () => {
    const bin = mkdtempSync(join(tmpdir(), 'no-engine-'));
    // A docker client that finds no engine, and the tools the script needs; no dockerd.
    writeFileSync(join(bin, 'docker'), '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n');
    chmodSync(join(bin, 'docker'), 0o755);
    for (const tool of ['bash', 'sed', 'cat', 'dirname', 'node', 'env', 'grep', 'head', 'tr']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`]).stdout.toString().trim();
      if (found) symlinkSync(found, join(bin, tool));
    }
    const run = spawnSync('./deploy_stack.sh', [], { cwd: join(import.meta.dirname, '../..'), env: { PATH: bin, HOME: bin }, encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('no Docker engine here');
    expect(run.stderr).toContain('./deploy_stack.sh --install-docker');
    expect(run.stderr + run.stdout).not.toContain('prepare-machine.sh');
  });
});
