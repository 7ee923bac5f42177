// docker-compose.builder.yml: the builder holds the Docker socket, so it is
// kept where only the gateway reaches it, on the manager the stack was
// deployed from, publishing nothing.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
interface Service {
  image?: string;
  ports?: unknown[];
  networks?: string[];
  volumes?: string[];
  read_only?: boolean;
  secrets?: { source: string; target: string }[];
  environment?: Record<string, string>;
  deploy?: { endpoint_mode?: string; placement?: { constraints?: string[] }; resources?: { limits?: { memory?: string } } };
}
const compose = parse(readFileSync(`${root}docker-compose.builder.yml`, 'utf8')) as {
  services: Record<string, Service>;
  networks: Record<string, { driver: string; attachable?: boolean }>;
  secrets: Record<string, { external: boolean; name: string }>;
};
const main = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as { services: Record<string, Service> };

describe('docker-compose.builder.yml', () => {
  const builder = compose.services.builder!;

  it('builds the project\'s builder image of this version', () => {
    expect(builder.image).toBe(main.services.gateway!.image!.replace('/gateway:', '/builder:'));
  });

  it('puts the builder on a network of its own that only the gateway joins, publishing no port', () => {
    expect(builder.networks).toEqual(['builder']);
    expect(compose.services.gateway?.networks).toEqual(['builder']);
    expect(compose.networks.builder).toEqual({ driver: 'overlay', attachable: false });
    expect(builder.ports).toBeUndefined();
    for (const [name, service] of Object.entries(main.services)) expect(service.networks ?? [], name).not.toContain('builder');
    expect(compose.services.gateway?.environment?.BUILDER_URL).toBe('http://builder:8080');
  });

  it('runs it on the manager the stack was deployed from, with the socket, a read-only root and the payload secret', () => {
    expect(builder.deploy?.placement?.constraints).toEqual(['node.role == manager', 'node.id == ${BUILDER_NODE_ID:?deploy_stack.sh sets BUILDER_NODE_ID}']);
    expect(builder.deploy?.endpoint_mode).toBe('dnsrr');
    expect(builder.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
    expect(builder.read_only).toBe(true);
    expect(builder.secrets).toEqual([{ source: 'payload_secret', target: 'payload-secret' }]);
    expect(compose.secrets.payload_secret).toEqual({ external: true, name: '${STACK_NAME:-func}_payload-secret' });
    expect(builder.deploy?.resources?.limits?.memory).toBe('256M');
  });
});
