// The Prometheus rules and the Prometheus / AlertManager configuration, checked
// by the real tools: promtool runs the rule unit tests in
// prometheus/tests/alert.rules.test.yml (alert timing with load, dips, missed
// scrapes), amtool checks both AlertManager files. The tools come with
// Debian's prometheus and prometheus-alertmanager packages, which
// scripts/make-local-bases.sh installs; without them these tests fail, saying so.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));

async function tool(command: string, args: string[], cwd = repo): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, timeout: 60_000 });
    return stdout + stderr;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error(`${command} is not installed: apt-get install prometheus prometheus-alertmanager (scripts/make-local-bases.sh installs them)`);
    }
    throw new Error(`${command} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

describe('Prometheus rules and configuration', () => {
  it('pass the rule unit tests (fire within ~8 s of 20 req/s, survive a dip, resolve ~25 s after the load)', async () => {
    const output = await tool('promtool', ['test', 'rules', 'alert.rules.test.yml'], `${repo}prometheus/tests`);
    expect(output).toMatch(/SUCCESS/);
  });

  it('are valid for promtool', async () => {
    expect(await tool('promtool', ['check', 'rules', 'prometheus/alert.rules.yml'])).toMatch(/SUCCESS: 2 rules found/);
    expect(await tool('promtool', ['check', 'config', '--syntax-only', 'prometheus/prometheus.yml'])).toMatch(/SUCCESS/);
  });

  it('scrape every 5 s and evaluate fast enough for a scale-up within 10 s', () => {
    const config = readFileSync(`${repo}prometheus/prometheus.yml`, 'utf8');
    expect(config).toMatch(/scrape_interval: 5s/);
    expect(config).toMatch(/evaluation_interval: 2s/);
    expect(config).toMatch(/names: \[tasks\.gateway\]/);
  });
});

describe('AlertManager configuration', () => {
  it('is valid for amtool, with and without auth', async () => {
    const output = await tool('amtool', ['check-config', 'alertmanager-config/alertmanager.yml', 'alertmanager-config/alertmanager-auth.yml']);
    expect(output.match(/SUCCESS/g)).toHaveLength(2);
  });

  it('groups per function and posts to the gateway with send_resolved; the auth file only adds credentials', () => {
    const plain = readFileSync(`${repo}alertmanager-config/alertmanager.yml`, 'utf8');
    const auth = readFileSync(`${repo}alertmanager-config/alertmanager-auth.yml`, 'utf8');
    for (const text of [plain, auth]) {
      expect(text).toMatch(/group_by: \[alertname, function_name\]/);
      expect(text).toMatch(/url: http:\/\/gateway:8080\/system\/alert/);
      expect(text).toMatch(/send_resolved: true/);
    }
    const body = (text: string) => text.replace(/^#.*\n/gm, '');
    expect(body(auth).replace(/ +http_config:\n +basic_auth:\n +username: admin\n +password_file: \/run\/secrets\/basic-auth-password\n/, '')).toBe(body(plain));
  });
});
