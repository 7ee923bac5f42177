// The stack file parses, and every image it names is either built by this
// project (gateway, or a functions/<name>/Dockerfile) or an official image
// configurable through a variable.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, { image: string; labels?: Record<string, string>; deploy?: { labels?: Record<string, string>; endpoint_mode?: string } }>;
};
const ownImage = /^\$\{FAAS_REPO:-swarmfaas\}\/([a-z0-9-]+):\$\{FAAS_TAG:-([0-9.]+)\}$/;
const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;

describe('docker-compose.yml', () => {
  const services = Object.entries(compose.services);

  it('names only images this project builds, or official ones behind a variable', () => {
    expect(services.length).toBeGreaterThan(3);
    for (const [name, service] of services) {
      const own = ownImage.exec(service.image);
      if (own) {
        const [, image, tag] = own;
        const dockerfile = image === 'gateway' ? 'gateway/Dockerfile' : `functions/${image}/Dockerfile`;
        expect(existsSync(`${root}${dockerfile}`), `${name}: ${dockerfile} builds ${image}`).toBe(true);
        expect(tag, `${name}: default tag is the package version`).toBe(version);
      } else {
        expect(service.image, `${name}: external image is configurable`).toMatch(/^\$\{[A-Z_]+_IMAGE:-(prom\/[a-z]+:v[0-9.]+|nats:[0-9.]+-alpine)\}$/);
      }
    }
  });

  it('labels every sample function function=true as container and service label, reachable without a VIP', () => {
    const functions = services.filter(([name]) => !['gateway', 'queue-worker', 'connector', 'nats', 'prometheus', 'alertmanager'].includes(name));
    expect(functions.map(([name]) => name).sort()).toEqual(
      ['base64', 'decodebase64', 'echoit', 'hubstats', 'markdown', 'nodeinfo', 'webhookstash', 'wordcount'],
    );
    for (const [name, service] of functions) {
      expect(service.labels?.function, `${name} container label`).toBe('true');
      expect(service.deploy?.labels?.function, `${name} service label`).toBe('true');
    }
    expect(compose.services.wordcount?.labels?.['com.faas.max_replicas']).toBe('10');
  });

  it('gives the services others call by name DNS round-robin endpoints', () => {
    for (const name of ['gateway', 'nats', 'prometheus', 'alertmanager']) {
      expect(compose.services[name]?.deploy?.endpoint_mode, name).toBe('dnsrr');
    }
  });

  it('keeps NATS off the functions network: only the gateway, the queue worker and the connector reach it', () => {
    const on = (name: string) => (compose.services[name] as { networks?: string[] } | undefined)?.networks ?? [];
    expect(on('nats')).toEqual(['nats']);
    const reach = services.filter(([name]) => on(name).includes('nats')).map(([name]) => name).sort();
    expect(reach).toEqual(['connector', 'gateway', 'nats', 'queue-worker']);
    // The worker and the connector are the gateway's image with other entry points.
    expect(compose.services['queue-worker']?.image).toBe(compose.services.gateway?.image);
    expect(compose.services.connector?.image).toBe(compose.services.gateway?.image);
  });
});

describe('the RabbitMQ files', () => {
  type Service = { image?: string; networks?: string[]; ports?: unknown[]; secrets?: Array<{ source: string; target: string; uid?: string; mode?: number }>; environment?: Record<string, string> };
  const load = (file: string) => parse(readFileSync(`${root}${file}`, 'utf8'), { merge: true }) as { services: Record<string, Service>; networks?: Record<string, unknown> };
  const broker = load('docker-compose.rabbitmq-broker.yml');
  const connection = load('docker-compose.rabbitmq.yml');

  it('keep the broker and its management API off every network functions join, and publish no port by default', () => {
    expect(broker.services.rabbitmq?.networks).toEqual(['rabbitmq']);
    expect(broker.services.rabbitmq?.ports).toBeUndefined();
    expect(broker.services.rabbitmq?.image).toBe('${RABBITMQ_IMAGE:-rabbitmq:3.13-management-alpine}');
    // Only the gateways and the connectors join it.
    expect(Object.entries(broker.services).filter(([, s]) => s.networks?.includes('rabbitmq')).map(([n]) => n).sort()).toEqual(['connector', 'gateway', 'rabbitmq']);
    expect(compose.services.echoit && (compose.services.echoit as Service).networks).toEqual(['functions']);
    expect(load('docker-compose.rabbitmq-port.yml').services.rabbitmq?.ports).toEqual([{ target: 5672, published: '${RABBITMQ_PORT:-5672}', protocol: 'tcp', mode: 'host' }]);
  });

  it('give the gateways and the connectors the broker by URL and the credentials as secrets only their user reads', () => {
    for (const name of ['gateway', 'connector']) {
      const s = connection.services[name]!;
      expect(s.environment).toEqual({ RABBITMQ_URL: '${RABBITMQ_URL:?RABBITMQ_URL}', RABBITMQ_MANAGEMENT_URL: '${RABBITMQ_MANAGEMENT_URL:-none}' });
      // (mode 0400: octal as Docker's YAML 1.1 loader reads it.)
      expect(s.secrets?.map((x) => [x.target, x.uid, String(x.mode)])).toEqual([['rabbitmq-username', '1000', '400'], ['rabbitmq-password', '1000', '400']]);
    }
  });
});
