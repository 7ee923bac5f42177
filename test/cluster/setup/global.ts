// Global setup of the cluster project: a 3-node Swarm of real engines on this
// machine (scripts/cluster.sh up), the stack deployed onto it with
// ./deploy_stack.sh as a user would (its own registry included), the URLs and
// credentials handed to the tests; at the end the cluster is removed, also when
// a test or the setup itself failed. E2E_KEEP_CLUSTER=1 keeps it for debugging.
//
// Nothing here touches the host's engine: every docker call names the cluster's
// engine, and process.env (which the e2e project's calls use) is never changed.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { CLUSTER_MANAGERS, CLUSTER_NODES, CLUSTER_STACK, type ClusterEnv, parseExports } from '../support/cluster-env.js';
import { takeTurn } from '../../support/load-turns.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** DOCKER_HOST, CLUSTER_ADDRESS and CLUSTER_NODE_HOSTS as `scripts/cluster.sh up` printed them. */
    cluster: ClusterEnv;
  }
}

const log = (line: string): void => void process.stderr.write(`[cluster] ${line}\n`);

/** Runs a script of the repo, streaming its stderr (and stdout unless captured), and answers its stdout. */
function runScript(command: string, args: string[], env: NodeJS.ProcessEnv, captureStdout = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!captureStdout) process.stderr.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} exited ${code}`))));
  });
}

async function removeCluster(): Promise<void> {
  if (process.env.E2E_KEEP_CLUSTER === '1') {
    log('keeping the cluster (E2E_KEEP_CLUSTER=1): remove it with scripts/cluster.sh down');
    return;
  }
  const started = Date.now();
  await runScript('scripts/cluster.sh', ['down'], process.env, true);
  log(`cluster removed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  try {
    if (process.getuid?.() !== 0) {
      // Never skipped: a run that cannot make the cluster fails (in CI and out of it).
      throw new Error('the cluster tests make network namespaces and engines: run them as root (npm test does, in CI)');
    }
    // A short dispatcher heartbeat: a lost node is marked down in seconds, not ~15 s.
    const exports = await runScript('scripts/cluster.sh', ['up', String(CLUSTER_NODES), '--managers', String(CLUSTER_MANAGERS), '--heartbeat', '2s', '--install'], process.env, true);
    const cluster = parseExports(exports);
    log(`cluster of ${cluster.nodeHosts.length} nodes up in ${((Date.now() - started) / 1000).toFixed(1)} s (manager ${cluster.address})`);

    const deployed = Date.now();
    const env = {
      ...process.env,
      DOCKER_HOST: cluster.dockerHost,
      CLUSTER_ADDRESS: cluster.address,
      CLUSTER_NODE_HOSTS: cluster.nodeHosts.join(' '),
      STACK_NAME: CLUSTER_STACK,
      // Capacity scaling's stable window, shortened as in the e2e stack.
      CAPACITY_STABLE_WINDOW: process.env.CAPACITY_STABLE_WINDOW ?? '15s',
      CAPACITY_PANIC_WINDOW: process.env.CAPACITY_PANIC_WINDOW ?? '3s',
    };
    // Prometheus and AlertManager published too, as the 2017 stack did: the
    // firewall test checks that functions reach neither them nor the registry.
    // Three engines pulling every image: the other process's load tests wait for it (test/support/load-turns.ts).
    const giveBack = await takeTurn('cluster: the stack deployed onto the cluster');
    try {
      await runScript('./deploy_stack.sh', ['--publish-monitoring'], env);
    } finally {
      await giveBack();
    }
    log(`stack ${CLUSTER_STACK} deployed onto the cluster in ${((Date.now() - deployed) / 1000).toFixed(1)} s`);

    const password = (await runScript('sh', ['-c', `docker exec "$(docker ps -q -f name=${CLUSTER_STACK}_gateway | head -1)" cat /run/secrets/basic-auth-password`], env, true)).trim();
    if (!password) throw new Error('could not read the gateway password from the manager');
    const payloadSecret = (await runScript('sh', ['-c', `docker exec "$(docker ps -q -f name=${CLUSTER_STACK}_builder | head -1)" cat /run/secrets/payload-secret`], env, true)).trim();
    if (!payloadSecret) throw new Error("could not read the builder's payload secret on the manager");
    project.provide('cluster', cluster);
    project.provide('gatewayUrl', `http://${cluster.address}:8080`);
    project.provide('stackName', CLUSTER_STACK);
    project.provide('credentials', `admin:${password}`);
    project.provide('payloadSecret', payloadSecret);
    log(`setup done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    log(`setup failed: ${(error as Error).message}; removing the cluster`);
    await removeCluster().catch((e: Error) => log(`removing the cluster failed too: ${e.message}`));
    throw error;
  }
  return async () => {
    log(`cluster project took ${((Date.now() - started) / 1000).toFixed(1)} s from setup to teardown`);
    await removeCluster();
  };
}
