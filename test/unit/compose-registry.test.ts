// docker-compose.registry.yml, the stack's own registry on multi-node swarms:
// what makes it work without a routing mesh or daemon.json on the nodes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
interface Service {
  image: string;
  environment?: Record<string, string>;
  ports: Array<{ target: number; published: string; mode: string }>;
  networks: string[];
  deploy: { mode?: string; endpoint_mode?: string; placement: { constraints: string[] } };
}
const compose = parse(readFileSync(`${root}docker-compose.registry.yml`, 'utf8')) as { services: Record<string, Service> };
const registry = compose.services.registry!;
const mirror = compose.services['registry-mirror']!;

describe('docker-compose.registry.yml', () => {
  it('runs Docker\'s registry (configurable) on the deploying node and a mirror on every other node', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['registry', 'registry-mirror']);
    for (const service of [registry, mirror]) expect(service.image).toBe('${REGISTRY_IMAGE:-registry:2}');
    expect(registry.deploy.placement.constraints).toEqual(['node.id == ${REGISTRY_NODE_ID:?deploy_stack.sh sets REGISTRY_NODE_ID}']);
    expect(mirror.deploy.mode).toBe('global');
    expect(mirror.deploy.placement.constraints).toEqual(['node.id != ${REGISTRY_NODE_ID:?deploy_stack.sh sets REGISTRY_NODE_ID}']);
  });

  it('answers on 127.0.0.1:<port> of every node (host mode: no routing mesh needed; 127.0.0.0/8 needs no TLS)', () => {
    for (const service of [registry, mirror]) {
      expect(service.ports).toEqual([{ target: 5000, published: '${REGISTRY_PORT:-5000}', protocol: 'tcp', mode: 'host' }]);
    }
  });

  it('mirrors the registry by name over an overlay network, without a VIP', () => {
    expect(mirror.environment?.REGISTRY_PROXY_REMOTEURL).toBe('http://registry:5000');
    expect(registry.deploy.endpoint_mode).toBe('dnsrr');
    expect(registry.networks).toEqual(mirror.networks);
  });
});
