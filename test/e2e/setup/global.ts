// Global setup of the e2e project: checks the engine, deploys the stack with
// ./deploy_stack.sh under its own name and ports, hands the URLs and the
// credentials to the tests, and removes the stack afterwards (also when a
// test failed). E2E_KEEP_STACK=1 keeps it for debugging.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { DEPLOY_ARGS, deployEnv, stackSettings } from './stack.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    gatewayUrl: string;
    stackName: string;
    /** Basic-auth credentials for /system/* and /ui ("user:password"). */
    credentials: string;
    /** The builder's payload secret (X-Build-Signature, faas-cli --payload-secret). */
    payloadSecret: string;
    /** The stack's RabbitMQ, as a producer outside the swarm reaches it (amqp://faas:password@127.0.0.1:port/). */
    rabbitmqUrl: string;
  }
}

async function engineAnswers(): Promise<boolean> {
  try {
    await run('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Runs the deploy script, streaming its output, and returns what it printed. */
function deployStack(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('./deploy_stack.sh', args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      process.stderr.write(chunk);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`deploy_stack.sh ${args.join(' ')} exited ${code}`))));
  });
}

/** A Docker secret as a running container of the stack's service sees it. */
async function readSecret(stackName: string, service: string, file: string): Promise<string> {
  const { stdout: ids } = await run('docker', ['ps', '-q', '-f', `label=com.docker.swarm.service.name=${stackName}_${service}`]);
  const id = ids.split('\n')[0]?.trim();
  if (!id) throw new Error(`no running container of ${stackName}_${service}`);
  const { stdout } = await run('docker', ['exec', id, 'cat', `/run/secrets/${file}`]);
  return stdout.trim();
}

/** Services, networks, configs and secrets of the stack that still exist. */
async function stackLeftovers(stackName: string): Promise<string[]> {
  const label = `label=com.docker.stack.namespace=${stackName}`;
  const found: string[] = [];
  for (const kind of ['service', 'network', 'config']) {
    const { stdout } = await run('docker', [kind, 'ls', '--filter', label, '--format', '{{.Name}}']);
    found.push(...stdout.split('\n').filter(Boolean).map((name) => `${kind} ${name}`));
  }
  const { stdout: secrets } = await run('docker', ['secret', 'ls', '--format', '{{.Name}}']);
  found.push(...secrets.split('\n').filter((name) => name.startsWith(`${stackName}_`)).map((name) => `secret ${name}`));
  return found;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const settings = stackSettings();
  if (!(await engineAnswers())) {
    const message =
      'No Docker engine answers: the end-to-end tests need a real engine in Swarm mode. ' +
      'Run scripts/prepare-machine.sh --install (or npm test, which does it).';
    // Never skip silently: without an engine the e2e run fails, in CI and out of it.
    throw new Error(message);
  }
  const env = deployEnv(settings);
  process.stderr.write(`[e2e] deploying stack ${settings.stackName} on port ${settings.gatewayPort}\n`);
  const started = Date.now();
  const remove = async (): Promise<void> => {
    // The volumes too: a later run starts with an empty queue (NATS) like a fresh machine.
    await deployStack(['--remove', '--purge-secrets', '--purge-data'], env);
    const leftovers = await stackLeftovers(settings.stackName);
    if (leftovers.length) throw new Error(`deploy_stack.sh --remove left behind: ${leftovers.join(', ')}`);
  };
  try {
    // One stack for every suite, with its own RabbitMQ (the RabbitMQ suite publishes to it from here, as a producer would).
    await deployStack(DEPLOY_ARGS, env);
    process.stderr.write(`[e2e] stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

    const password = await readSecret(settings.stackName, 'gateway', 'basic-auth-password');
    const payloadSecret = await readSecret(settings.stackName, 'builder', 'payload-secret');
    project.provide('gatewayUrl', `http://127.0.0.1:${settings.gatewayPort}`);
    project.provide('stackName', settings.stackName);
    project.provide('credentials', `admin:${password}`);
    project.provide('payloadSecret', payloadSecret);
    project.provide('rabbitmqUrl', `amqp://faas:${encodeURIComponent(await readSecret(settings.stackName, 'gateway', 'rabbitmq-password'))}@127.0.0.1:${settings.rabbitmqPort}/`);
  } catch (error) {
    // A setup that failed returns no teardown: the stack goes now, not with the next run.
    process.stderr.write(`[e2e] setup failed (${(error as Error).message}): removing stack ${settings.stackName}\n`);
    if (process.env.E2E_KEEP_STACK !== '1') await remove().catch((e: Error) => process.stderr.write(`[e2e] removing it failed too: ${e.message}\n`));
    throw error;
  }

  return async () => {
    if (process.env.E2E_KEEP_STACK === '1') {
      process.stderr.write(`[e2e] keeping stack ${settings.stackName} (E2E_KEEP_STACK=1)\n`);
      return;
    }
    await remove();
  };
}
