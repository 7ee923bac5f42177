// Function secrets on Swarm. Only secrets of this gateway's scope and the
// function's namespace can be mounted: made through /system/secrets, or by
// hand with the same labels (com.swarmfaas.scope, .namespace, .kind=secret,
// .secret=<name>). Any other secret of the swarm (another application's, the
// stack's own credentials) cannot be named by a function.
//
// Swarm secrets cannot change: a new value is a new generation, every
// function that uses the secret is rolled onto it (start-first: no gap), and
// the older generations are removed once no function names them.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { ProviderError, type SecretRef, type SecretValue } from '../types.js';
import { call } from './engine.js';
import { KIND_LABEL, SCOPE_LABEL, type SwarmScope } from './scope.js';
import { containerSpecOf, INTERNAL_PREFIX, NAMESPACE_LABEL, type ServiceInfo } from './spec.js';

const SECRET_LABEL = `${INTERNAL_PREFIX}secret`;
const GENERATION_LABEL = `${INTERNAL_PREFIX}generation`;
/** Where OpenFaaS functions read their secrets; they are mounted at /run/secrets/<name> too. */
export const OPENFAAS_SECRETS_DIR = '/var/openfaas/secrets';

interface SecretInfo {
  ID: string;
  Spec?: { Name?: string; Labels?: Record<string, string> };
}

/** A secret a function may mount: its latest generation. */
export interface MountableSecret {
  name: string;
  id: string;
  swarmName: string;
}

export class SwarmSecrets {
  constructor(
    private readonly docker: Docker,
    private readonly scope: SwarmScope,
    private readonly options: { log: Logger },
  ) {}

  async list(namespace: string): Promise<SecretRef[]> {
    return [...(await this.latest(namespace)).keys()].sort().map((name) => ({ name, namespace }));
  }

  /** The latest generation of each named secret; an unknown name is a 400 naming it. */
  async resolve(names: readonly string[], namespace: string): Promise<MountableSecret[]> {
    if (names.length === 0) return [];
    const latest = await this.latest(namespace);
    const missing = names.filter((n) => !latest.has(n));
    if (missing.length > 0) {
      throw new ProviderError(
        'invalid',
        `secrets: no secret named ${missing.join(', ')} in namespace ${namespace} (functions can use only secrets made with POST /system/secrets)`,
      );
    }
    return names.map((name) => {
      const secret = latest.get(name)!;
      return { name, id: secret.ID, swarmName: secret.Spec?.Name ?? '' };
    });
  }

  async create(secret: SecretValue): Promise<void> {
    if ((await this.latest(secret.namespace)).has(secret.name)) {
      throw new ProviderError('conflict', `secret ${secret.name} already exists in namespace ${secret.namespace}`);
    }
    await this.write(secret, 1);
    this.options.log.info({ secret: secret.name, namespace: secret.namespace }, 'secret created');
  }

  /** A new generation, and every function using the secret rolled onto it. */
  async update(secret: SecretValue, services: () => Promise<ServiceInfo[]>, roll: (service: ServiceInfo, mount: MountableSecret) => Promise<void>): Promise<string[]> {
    const current = (await this.latest(secret.namespace)).get(secret.name);
    if (!current) throw new ProviderError('not-found', `secret ${secret.name} not found in namespace ${secret.namespace}`);
    const generation = generationOf(current) + 1;
    const created = await this.write(secret, generation);
    const mount = { name: secret.name, id: created.id, swarmName: await this.nameFor(secret, generation) };
    const older = new Set((await this.generations(secret)).filter((s) => s.ID !== created.id).map((s) => s.ID));
    const users = (await services()).filter((service) => usesAny(service, older));
    for (const service of users) await roll(service, mount);
    await this.removeUnused(secret);
    this.options.log.info({ secret: secret.name, namespace: secret.namespace, generation, functions: users.length }, 'secret changed; its functions roll onto it');
    return users.map((s) => s.Spec?.Name ?? s.ID);
  }

  /** Removes every generation; a conflict naming the functions that still use it. */
  async delete(secret: SecretRef, users: (ids: ReadonlySet<string>) => Promise<string[]>): Promise<void> {
    const generations = await this.generations(secret);
    if (generations.length === 0) throw new ProviderError('not-found', `secret ${secret.name} not found in namespace ${secret.namespace}`);
    const names = await users(new Set(generations.map((g) => g.ID)));
    if (names.length > 0) throw new ProviderError('conflict', `secret ${secret.name} is used by ${names.join(', ')}: remove it from them first`);
    for (const generation of generations) await call(() => this.docker.getSecret(generation.ID).remove());
  }

  /** Every secret of a namespace (when the namespace goes). */
  async deleteAll(namespace: string): Promise<void> {
    for (const secret of await this.all(namespace)) await call(() => this.docker.getSecret(secret.ID).remove()).catch(() => undefined);
  }

  /** Generations older than the latest that no service names any more (in-use ones are refused by Swarm and kept). */
  async removeUnused(secret: SecretRef): Promise<void> {
    const generations = await this.generations(secret);
    const newest = Math.max(...generations.map(generationOf));
    for (const g of generations) if (generationOf(g) < newest) await call(() => this.docker.getSecret(g.ID).remove()).catch(() => undefined);
  }

  private async write(secret: SecretValue, generation: number): Promise<{ id: string }> {
    const labels = { ...(await this.scope.labels(secret.namespace, 'secret')), [SECRET_LABEL]: secret.name, [GENERATION_LABEL]: String(generation) };
    const name = await this.nameFor(secret, generation);
    // dockerode answers a Secret handle whose id is the new secret's.
    return (await call(() => this.docker.createSecret({ Name: name, Labels: labels, Data: secret.value.toString('base64') }))) as { id: string };
  }

  private nameFor(secret: SecretRef, generation: number): Promise<string> {
    return this.scope.objectName('secret', secret.namespace, secret.name, `v${generation}`);
  }

  private async generations(secret: SecretRef): Promise<SecretInfo[]> {
    return (await this.all(secret.namespace)).filter((s) => s.Spec?.Labels?.[SECRET_LABEL] === secret.name);
  }

  private async all(namespace: string): Promise<SecretInfo[]> {
    const id = await this.scope.id();
    return (await call(() =>
      this.docker.listSecrets({ filters: { label: [`${SCOPE_LABEL}=${id}`, `${KIND_LABEL}=secret`, `${NAMESPACE_LABEL}=${namespace}`] } }),
    )) as SecretInfo[];
  }

  private async latest(namespace: string): Promise<Map<string, SecretInfo>> {
    const latest = new Map<string, SecretInfo>();
    for (const secret of await this.all(namespace)) {
      const name = secret.Spec?.Labels?.[SECRET_LABEL];
      if (!name) continue;
      const seen = latest.get(name);
      if (!seen || generationOf(secret) > generationOf(seen)) latest.set(name, secret);
    }
    return latest;
  }
}

/** Whether the service mounts any of these secret IDs. */
export function usesAny(service: ServiceInfo, ids: ReadonlySet<string>): boolean {
  return (containerSpecOf(service.Spec)?.Secrets ?? []).some((s) => ids.has(s.SecretID ?? ''));
}

function generationOf(secret: SecretInfo): number {
  return Number(secret.Spec?.Labels?.[GENERATION_LABEL] ?? 0) || 0;
}
