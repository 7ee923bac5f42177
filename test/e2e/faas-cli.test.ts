// The OpenFaaS CLI itself (a build of faas-cli 0.17.6, found through FAAS_CLI;
// .ci/run points it at ../shared/reference/faas-cli) against the deployed
// stack, as an OpenFaaS user would drive it: login, version, list, deploy,
// update, invoke (sync and --async), describe, logs, secrets, namespaces and
// remove, in the default namespace and in a second one. Each command's
// exit code and output are checked, not only that it ran.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fn, gatewayUrl, image, systemFetch, waitFor } from './support/gateway.js';

const CLI = process.env.FAAS_CLI ?? '';
const NS = 'e2e-cli';

let home = '';
beforeAll(async () => {
  if (!CLI || !existsSync(CLI)) {
    // Never skipped silently: without the CLI this suite cannot say the CLI works.
    throw new Error(`FAAS_CLI must name the faas-cli binary (got "${CLI}"): .ci/run sets it to ../shared/reference/faas-cli`);
  }
  home = await mkdtemp(join(tmpdir(), 'faas-cli-'));
});
afterAll(async () => {
  for (const [name, ns] of [[fn('cli'), ''], ['cli', NS], [fn('clistore'), '']] as const) {
    await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: name, namespace: ns }) }).catch(() => undefined);
  }
  await systemFetch('/system/secrets', { method: 'DELETE', body: JSON.stringify({ name: 'cli-secret' }) }).catch(() => undefined);
  await systemFetch(`/system/namespace/${NS}`, { method: 'DELETE' }).catch(() => undefined);
  if (home) await rm(home, { recursive: true, force: true });
});

interface Result {
  code: number;
  out: string;
}

/** Runs faas-cli with a throwaway HOME (login writes there), against the stack's gateway. */
function cli(args: string[], input?: string, timeoutMs = 60_000): Promise<Result> {
  return run([...args, '--gateway', gatewayUrl()], input, timeoutMs);
}

/** Runs faas-cli as it is (for commands without --gateway, such as store list). */
function run(args: string[], input?: string, timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(CLI, args, { env: { ...process.env, HOME: home, OPENFAAS_CONFIG: join(home, '.openfaas') }, timeout: timeoutMs }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

function report(line: string): void {
  process.stderr.write(`[faas-cli] ${line}\n`);
}

async function ok(args: string[], input?: string): Promise<string> {
  const result = await cli(args, input);
  report(`faas-cli ${args.join(' ')} -> ${result.code}: ${result.out.trim().split('\n').slice(-3).join(' / ').slice(0, 200)}`);
  expect(result.code, result.out).toBe(0);
  return result.out;
}

async function ready(name: string, namespace?: string): Promise<void> {
  const path = namespace ? `/system/function/${name}.${namespace}` : `/system/function/${name}`;
  await waitFor(`${name} ready`, async () => {
    const res = await systemFetch(path);
    return res.status === 200 && ((await res.json()) as { availableReplicas: number }).availableReplicas >= 1 ? true : undefined;
  }, 90_000, 250);
}

describe('faas-cli against the stack', () => {
  it('logs in and reads the version, then lists functions', async () => {
    const [user, password] = inject('credentials').split(':') as [string, string];
    await ok(['login', '--username', user, '--password-stdin'], password);
    const version = await ok(['version', '--warn-update=false']);
    expect(version).toMatch(/Provider\s*\n?\s*name:\s*swarmfaas-swarm/i);
    expect(version).toMatch(/orchestration:\s*swarm/);
    const list = await ok(['list']);
    expect(list).toContain(fn('echoit'));
  });

  for (const namespace of ['', NS]) {
    const where = namespace || 'the default namespace';
    const name = namespace ? 'cli' : fn('cli');
    const nsArgs = namespace ? ['--namespace', namespace] : [];

    it(`deploys, updates, invokes (sync and --async), describes, logs and removes a function in ${where}`, async () => {
      if (namespace) {
        await ok(['namespace', 'create', namespace]);
        expect(await ok(['namespace', 'list'])).toContain(namespace);
      }
      await ok(['deploy', '--image', image('echoit'), '--name', name, '--fprocess', 'cat', '--label', 'com.openfaas.scale.zero=false', ...nsArgs]);
      await ready(name, namespace);
      expect(await ok(['invoke', name, ...nsArgs], 'hello from the cli')).toContain('hello from the cli');
      // An update (PUT) that changes what it runs.
      await ok(['deploy', '--image', image('echoit'), '--name', name, '--fprocess', 'tr a-z A-Z', '--label', 'com.openfaas.scale.zero=false', ...nsArgs]);
      await waitFor('the update to roll out', async () => ((await cli(['invoke', name, ...nsArgs], 'shout')).out.includes('SHOUT') ? true : undefined), 90_000, 500);
      const queued = await ok(['invoke', name, '--async', ...nsArgs], 'later');
      expect(queued).toMatch(/Function submitted asynchronously|202/);
      const described = await ok(['describe', name, ...nsArgs]);
      expect(described).toMatch(new RegExp(`Name:\\s+${name}`));
      expect(described).toMatch(/Status:\s+Ready/);
      expect(described).toMatch(/Replicas:\s+1/);
      const logs = await ok(['logs', name, '--tail=false', '--since', '10m', ...nsArgs]);
      expect(logs.length).toBeGreaterThan(0);
      await ok(['remove', name, ...nsArgs]);
      await waitFor(`${name} gone`, async () => ((await systemFetch(`/system/function/${namespace ? `${name}.${namespace}` : name}`)).status === 404 ? true : undefined));
      expect((await ok(['list', ...nsArgs]))).not.toMatch(new RegExp(`^${name}\\s`, 'm'));
    });
  }

  it("lists and deploys from the gateway's store catalog (store list|deploy --url /store/functions.json)", async () => {
    const url = gatewayUrl('/store/functions.json');
    const listed = await run(['store', 'list', '--url', url]);
    report(`faas-cli store list --url ${url} -> ${listed.code}: ${listed.out.trim().split('\n').length} lines`);
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toMatch(/^echoit\s+swarm-faas\s+Echo it$/m);
    expect(listed.out).toMatch(/^wordcount\s+swarm-faas\s+Word count$/m);
    const described = await run(['store', 'describe', 'wordcount', '--url', url]);
    expect(described.code, described.out).toBe(0);
    expect(described.out).toMatch(new RegExp(`Image:\\s+${image('wordcount').replace(/[.]/g, '\\.')}`));
    // Deployed under a name of the test's own, with the catalog's image and labels.
    const name = fn('clistore');
    await ok(['store', 'deploy', 'wordcount', '--url', url, '--name', name]);
    await ready(name);
    const info = (await (await systemFetch(`/system/function/${name}`)).json()) as { image: string; labels: Record<string, string>; scaling: { max: number } };
    expect(info.image).toBe(image('wordcount'));
    expect(info.labels['com.faas.max_replicas']).toBe('10');
    expect(info.scaling.max).toBe(10);
    expect((await ok(['invoke', name], 'one two three')).trim()).toMatch(/^0\s+3\s+13$/);
    await ok(['remove', name]);
  });

  it('creates, lists and removes a secret, and removes the second namespace', async () => {
    await ok(['secret', 'create', 'cli-secret', '--from-literal', 'from the cli']);
    const listed = await ok(['secret', 'list']);
    expect(listed).toContain('cli-secret');
    expect(listed).not.toContain('from the cli');
    await ok(['secret', 'remove', 'cli-secret']);
    expect(await ok(['secret', 'list'])).not.toContain('cli-secret');
    await ok(['namespace', 'remove', NS]);
    expect(await ok(['namespace', 'list'])).not.toContain(NS);
  });
});
