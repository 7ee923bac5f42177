// ./deploy_stack.sh as a user meets it: the stack it deployed (in the global
// setup) is protected by the generated credentials, a second run changes
// nothing and keeps the password, and the script explains itself.
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { DEPLOY_ARGS, deployEnv, stackSettings } from './setup/stack.js';
import { authHeader, fn, gatewayUrl } from './support/gateway.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

async function runningTasks(stack: string): Promise<string[]> {
  const { stdout } = await run('docker', ['stack', 'ps', stack, '--filter', 'desired-state=running', '--format', '{{.ID}} {{.Name}}']);
  return stdout.trim().split('\n').sort();
}

describe('deploy_stack.sh', () => {
  it('requires the credentials on /system/* and /ui', async () => {
    for (const path of ['/system/functions', '/system/info', '/ui/']) {
      const anonymous = await fetch(gatewayUrl(path));
      expect(anonymous.status, `${path} without credentials`).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
      const wrong = await fetch(gatewayUrl(path), { headers: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` } });
      expect(wrong.status, `${path} with a wrong password`).toBe(401);
      const allowed = await fetch(gatewayUrl(path), { headers: authHeader() });
      expect(allowed.status, `${path} with the printed credentials`).toBe(200);
    }
  });

  it('leaves /function/*, /healthz and /metrics open', async () => {
    const invoked = await fetch(gatewayUrl(`/function/${fn('echoit')}`), { method: 'POST', body: 'open' });
    expect(invoked.status).toBe(200);
    expect(await invoked.text()).toBe('open');
    expect((await fetch(gatewayUrl('/healthz'))).status).toBe(200);
    const metrics = await fetch(gatewayUrl('/metrics'));
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('gateway_function_invocation_total');
  });

  it('keeps the credentials out of the service environment', async () => {
    const password = inject('credentials').split(':')[1]!;
    const { stdout } = await run('docker', ['service', 'inspect', `${inject('stackName')}_gateway`]);
    expect(stdout).not.toContain(password);
    expect(stdout).toContain('basic-auth-password');
  });

  it('changes nothing and keeps the password when run a second time', async () => {
    const stack = inject('stackName');
    const before = await runningTasks(stack);
    const second = spawnSync('./deploy_stack.sh', DEPLOY_ARGS, { cwd: root, env: deployEnv(stackSettings()), encoding: 'utf8', timeout: 300_000 });
    expect(second.status, second.stderr + second.stdout).toBe(0);
    expect(second.stdout).toContain('using the existing credentials');
    expect(second.stdout).not.toContain('shown only now');
    expect(await runningTasks(stack)).toEqual(before);
    const allowed = await fetch(gatewayUrl('/system/functions'), { headers: authHeader() });
    expect(allowed.status).toBe(200);
  }, 320_000);

  it('lists every option in --help and rejects unknown ones', () => {
    const help = spawnSync('./deploy_stack.sh', ['--help'], { cwd: root, encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const option of ['--no-auth', '--install-docker', '--build', '--no-build', '--remove', '--purge-secrets', '--timeout']) {
      expect(help.stdout).toContain(option);
    }
    const bad = spawnSync('./deploy_stack.sh', ['--frobnicate'], { cwd: root, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown option '--frobnicate'");
  });

  it('docker stack config accepts the stack files', () => {
    const merged = spawnSync('docker', ['stack', 'config', '-c', 'docker-compose.yml', '-c', 'docker-compose.auth.yml'], {
      cwd: root,
      env: { ...process.env, STACK_NAME: 'parsecheck' },
      encoding: 'utf8',
    });
    expect(merged.status, merged.stderr).toBe(0);
    expect(merged.stdout).toContain('parsecheck_basic-auth-password');
  });
});
