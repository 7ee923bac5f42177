// The docker CLI, for what the e2e suites check beside the gateway's API:
// containers of a service, exec into them, inspect, logs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** Runs `docker ...args` and answers its trimmed standard output. */
export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { timeout: 120_000, maxBuffer: 10_000_000 });
  return stdout.trim();
}

/** IDs of the running containers of a Swarm service on this node. */
export async function containersOf(service: string): Promise<string[]> {
  return (await docker('ps', '-q', '--no-trunc', '--filter', `label=com.docker.swarm.service.name=${service}`)).split('\n').filter(Boolean);
}
