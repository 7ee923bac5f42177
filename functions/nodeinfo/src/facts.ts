/**
 * OS facts of the node the function runs on, as the original nodeinfo
 * function printed them; "verbose" in the body adds CPUs and network interfaces.
 */
import * as os from 'node:os';

export interface NodeFacts {
  hostname: string;
  platform: string;
  arch: string;
  release: string;
  cpuCount: number;
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  uptimeSeconds: number;
  loadAverage: number[];
}

export function nodeFacts(): NodeFacts {
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    arch: os.arch(),
    release: os.release(),
    cpuCount: os.cpus().length,
    totalMemoryBytes: os.totalmem(),
    freeMemoryBytes: os.freemem(),
    uptimeSeconds: Math.round(os.uptime()),
    loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

export function formatFacts(facts: NodeFacts, verbose: boolean): string {
  const lines = [
    `Hostname: ${facts.hostname}`,
    '',
    `Platform: ${facts.platform}`,
    `Arch: ${facts.arch}`,
    `Kernel: ${facts.release}`,
    `CPU count: ${facts.cpuCount}`,
    `Memory: ${facts.freeMemoryBytes} bytes free of ${facts.totalMemoryBytes}`,
    `Load average: ${facts.loadAverage.join(' ')}`,
    `Uptime: ${facts.uptimeSeconds}`,
  ];
  if (verbose) {
    lines.push('', `CPUs: ${JSON.stringify(os.cpus(), null, 2)}`, '', `Network: ${JSON.stringify(os.networkInterfaces(), null, 2)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** JSON when asked for it (Accept: application/json), text otherwise. */
export function answer(body: string, accept: string | undefined): { type: string; text: string } {
  const verbose = body.trim().toLowerCase() === 'verbose';
  if (accept?.includes('application/json')) {
    const facts = nodeFacts();
    const extra = verbose ? { cpus: os.cpus(), network: os.networkInterfaces() } : {};
    return { type: 'application/json', text: `${JSON.stringify({ ...facts, ...extra })}\n` };
  }
  return { type: 'text/plain; charset=utf-8', text: formatFacts(nodeFacts(), verbose) };
}
