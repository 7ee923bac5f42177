// What the stack files do for the second round of security fixes (issue 21):
// every service of the stack has an init as PID 1; the stack's firewall runs
// on every node with what it needs and never lapses during an update; the
// queue workers' and connectors' /metrics want the token Prometheus sends.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
interface Service {
  image: string;
  init?: boolean;
  networks?: string[];
  cap_add?: string[];
  environment?: Record<string, string>;
  secrets?: Array<{ source: string; target: string; uid?: string; mode?: number }>;
  labels?: Record<string, string>;
  deploy?: { mode?: string; update_config?: { order?: string }; placement?: { constraints?: string[] } };
}
interface Compose {
  services: Record<string, Service>;
  networks?: Record<string, { external?: boolean; name?: string }>;
  secrets?: Record<string, { external?: boolean; name?: string }>;
}
const read = (file: string): Compose => parse(readFileSync(`${root}${file}`, 'utf8'), { merge: true }) as Compose;
const stack = read('docker-compose.yml');
const registry = read('docker-compose.registry.yml');
const firewall = read('docker-compose.firewall.yml');
const builder = read('docker-compose.builder.yml');
const broker = read('docker-compose.rabbitmq-broker.yml');

describe('PID 1 reaps orphans in every container', () => {
  it('gives every service of the stack Docker\'s init; sample functions have the watchdog\'s init.sh, which reaps', () => {
    const all = { ...stack.services, ...registry.services, ...firewall.services, builder: builder.services.builder!, rabbitmq: broker.services.rabbitmq! };
    for (const [name, service] of Object.entries(all)) {
      if (service.labels?.function === 'true') continue;
      expect(service.init, name).toBe(true);
    }
    expect(readFileSync(`${root}functions/watchdog/Dockerfile`, 'utf8')).toMatch(/CMD \["\/bin\/sh", "\/home\/app\/init\.sh"\]/);
  });
});

describe('docker-compose.firewall.yml', () => {
  const service = firewall.services.firewall!;
  it('runs on every node, on the host\'s network, with NET_ADMIN only', () => {
    expect(Object.keys(firewall.services)).toEqual(['firewall']);
    expect(service.image).toBe('${FAAS_REPO:-swarmfaas}/firewall:${FAAS_TAG:-0.1.0}');
    expect(service.deploy?.mode).toBe('global');
    expect(service.networks).toEqual(['host']);
    expect(firewall.networks?.host).toEqual({ external: true, name: 'host' });
    expect(service.cap_add).toEqual(['NET_ADMIN']);
  });

  it('starts the new task before stopping the old one (the rules never lapse) and takes its ports from deploy_stack.sh', () => {
    expect(service.deploy?.update_config?.order).toBe('start-first');
    expect(service.environment).toMatchObject({
      STACK: '${STACK_NAME:-func}',
      LOOPBACK_ONLY_PORTS: '${FIREWALL_LOOPBACK_ONLY_PORTS:-}',
      NO_CONTAINER_PORTS: '${FIREWALL_NO_CONTAINER_PORTS:-}',
      NODE_ADDRESSES: '${FIREWALL_NODE_ADDRESSES:-}',
    });
  });

  it('has a Dockerfile whose base is a multi-arch build argument', () => {
    const dockerfile = readFileSync(`${root}firewall/Dockerfile`, 'utf8');
    expect(dockerfile).toMatch(/^ARG FIREWALL_BASE_IMAGE=alpine:3\.\d+$/m);
    expect(dockerfile).toMatch(/^FROM \$\{FIREWALL_BASE_IMAGE\}$/m);
  });
});

describe('the metrics token', () => {
  it('is given to the queue worker, the connector and Prometheus, which sends it to both', () => {
    for (const name of ['queue-worker', 'connector']) {
      expect(stack.services[name]?.environment?.METRICS_TOKEN_FILE, name).toBe('/run/secrets/metrics-token');
      expect(stack.services[name]?.secrets, name).toEqual([{ source: 'metrics_token', target: 'metrics-token' }]);
    }
    // (mode 0400: octal to Docker's YAML 1.1 parser, as in docker-compose.auth.yml.)
    expect(stack.services.prometheus?.secrets).toEqual([{ source: 'metrics_token', target: 'metrics-token', uid: '65534', mode: expect.any(Number) }]);
    expect(stack.secrets?.metrics_token).toEqual({ external: true, name: '${STACK_NAME:-func}_metrics-token' });
    const prometheus = parse(readFileSync(`${root}prometheus/prometheus.yml`, 'utf8')) as {
      scrape_configs: Array<{ job_name: string; authorization?: { type: string; credentials_file: string } }>;
    };
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((job) => [job.job_name, job.authorization]));
    expect(jobs['queue-worker']).toEqual({ type: 'Bearer', credentials_file: '/run/secrets/metrics-token' });
    expect(jobs.connector).toEqual({ type: 'Bearer', credentials_file: '/run/secrets/metrics-token' });
    // The gateway's /metrics stays public, as OpenFaaS's is.
    expect(jobs.gateway).toBeUndefined();
  });
});
