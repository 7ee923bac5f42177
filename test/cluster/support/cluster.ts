// Helpers of the cluster tests: the docker CLI against one of the cluster's
// engines (never the host's), nodes and where tasks run, and scripts/cluster.sh.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { CLUSTER_MANAGERS, parseExports, type ClusterEnv } from './cluster-env.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function cluster(): ClusterEnv {
  return inject('cluster');
}

/** `docker ...args` against the engine at `host` (a unix:// DOCKER_HOST). */
export async function dockerOn(host: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { env: { ...process.env, DOCKER_HOST: host }, timeout: 120_000, maxBuffer: 20_000_000 });
  return stdout.trim();
}

/** `docker ...args` against the manager. */
export function manager(...args: string[]): Promise<string> {
  return dockerOn(cluster().dockerHost, ...args);
}

/** Runs scripts/cluster.sh; answers stdout and stderr. */
export async function clusterScript(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await run('scripts/cluster.sh', args, { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 300_000 });
  return { stdout, stderr };
}

/** `scripts/cluster.sh up` for the test cluster as the global setup made it; answers what it printed. */
export async function clusterUp(): Promise<ClusterEnv> {
  const { stdout } = await clusterScript(['up', String(cluster().nodeHosts.length), '--managers', String(CLUSTER_MANAGERS), '--heartbeat', '2s']);
  return parseExports(stdout);
}

export interface NodeInfo {
  id: string;
  hostname: string;
  status: string;
  availability: string;
  manager: boolean;
  address: string;
}

export async function nodes(): Promise<NodeInfo[]> {
  const ids = (await manager('node', 'ls', '-q')).split('\n').filter(Boolean);
  const out = await manager(
    'node', 'inspect', ...ids, '--format',
    '{{.ID}} {{.Description.Hostname}} {{.Status.State}} {{.Spec.Availability}} {{if .ManagerStatus}}manager {{.ManagerStatus.Addr}}{{else}}worker -{{end}} {{.Status.Addr}}',
  );
  return out.split('\n').filter(Boolean).map((line) => {
    const [id, hostname, status, availability, role, managerAddr, addr] = line.split(' ') as [string, string, string, string, string, string, string];
    // A manager may report 0.0.0.0 as its address; the address it advertises is in its manager status.
    const address = addr === '0.0.0.0' && role === 'manager' ? managerAddr.replace(/:\d+$/, '') : addr;
    return { id, hostname, status, availability, manager: role === 'manager', address };
  });
}

/** The engine (DOCKER_HOST) of node-<i>, by the hostname cluster.sh gives it. */
export function nodeHost(hostname: string): string {
  const index = Number(/^node-(\d+)$/.exec(hostname)?.[1]);
  const host = cluster().nodeHosts[index - 1];
  if (!host) throw new Error(`no engine for ${hostname}`);
  return host;
}

export interface TaskInfo {
  id: string;
  node: string;
  state: string;
  desired: string;
}

/** Tasks of a service: node hostname, current state (running, starting, ...), desired state. */
export async function tasks(service: string): Promise<TaskInfo[]> {
  const out = await manager('service', 'ps', service, '--no-trunc', '--format', '{{.ID}}|{{.Node}}|{{.CurrentState}}|{{.DesiredState}}');
  return out.split('\n').filter(Boolean).map((line) => {
    const [id, node, current, desired] = line.split('|') as [string, string, string, string];
    return { id, node, state: (current.split(' ')[0] ?? '').toLowerCase(), desired: desired.toLowerCase() };
  });
}

/** Running tasks of a service per node hostname. */
export async function runningPerNode(service: string): Promise<Record<string, number>> {
  const perNode: Record<string, number> = {};
  for (const task of await tasks(service)) {
    if (task.state === 'running' && task.desired === 'running') perNode[task.node] = (perNode[task.node] ?? 0) + 1;
  }
  return perNode;
}

export function sum(perNode: Record<string, number>): number {
  return Object.values(perNode).reduce((a, b) => a + b, 0);
}

/** Where a port a service publishes in host mode answers: the address of the node its task runs on. */
export async function publishedUrl(service: string, port: number): Promise<string> {
  const running = (await tasks(service)).find((t) => t.state === 'running' && t.desired === 'running');
  if (!running) throw new Error(`${service} has no running task`);
  const node = (await nodes()).find((n) => n.hostname === running.node);
  if (!node) throw new Error(`${service} runs on ${running.node}, which is not in the node list`);
  return `http://${node.address}:${port}`;
}

/** The stack's gateways: one per manager, on its published port 8080 (host mode). */
export async function gateways(): Promise<string[]> {
  return (await nodes()).filter((n) => n.manager).map((n) => `http://${n.address}:8080`).sort();
}

/** Whether every gateway answers /healthz with 200 now (each given 2 s). */
export async function allHealthy(gatewayUrls: readonly string[]): Promise<boolean> {
  const answers = await Promise.all(gatewayUrls.map((g) => fetch(`${g}/healthz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status, () => 0)));
  return answers.every((status) => status === 200);
}

/** Services of a stack with their replicas ("2/2"). */
export async function stackServices(stack: string): Promise<Array<{ name: string; replicas: string }>> {
  const out = await manager('service', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '--format', '{{.Name}} {{.Replicas}}');
  return out.split('\n').filter(Boolean).map((line) => {
    const [name, replicas] = line.split(' ') as [string, string];
    return { name, replicas };
  });
}

/** The network namespace of a node of the test cluster (scripts/cluster.sh: <prefix>-<i>, its engine at /run/<prefix>/node-<i>/docker.sock). */
export function netnsOf(node: NodeInfo): string {
  const match = /^unix:\/\/\/run\/([a-z0-9]+)\/node-(\d+)\/docker\.sock$/.exec(nodeHost(node.hostname));
  if (!match) throw new Error(`cannot tell the network namespace of ${node.hostname}`);
  return `/run/netns/${match[1]}-${match[2]}`;
}

/** `nft ...args` in a node's network namespace (where the stack's firewall keeps its table). */
export async function nft(node: NodeInfo, ...args: string[]): Promise<string> {
  const { stdout } = await run('nsenter', [`--net=${netnsOf(node)}`, 'nft', ...args], { timeout: 10_000 });
  return stdout;
}

/** The nftables table of a stack's firewall (firewall/firewall.sh). */
export function firewallTable(stack: string): string {
  return `swarmfaas_${stack.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function report(lines: string[]): void {
  process.stderr.write(lines.map((line) => `[cluster] ${line}\n`).join(''));
}
