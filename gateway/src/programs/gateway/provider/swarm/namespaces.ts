// Namespaces on Swarm. A namespace is an overlay network of its own (its
// functions reach each other, not those of another namespace) plus its
// labels and annotations, kept in a Docker config (a config is replaced by a
// newer generation). The networks come with the stack, one per slot (see
// SwarmScope.slots); creating a namespace claims a free one in its config,
// deleting it (once it holds no function) frees it again.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { ProviderError, type NamespaceInfo } from '../types.js';
import { call } from './engine.js';
import { KIND_LABEL, SCOPE_LABEL, type SwarmScope } from './scope.js';
import { INTERNAL_PREFIX, NAMESPACE_LABEL } from './spec.js';

const GENERATION_LABEL = `${INTERNAL_PREFIX}generation`;
/** On a namespace's config: the ID of the network it claimed. */
const NETWORK_LABEL = `${INTERNAL_PREFIX}network`;

interface ConfigInfo {
  ID: string;
  CreatedAt?: string;
  Spec?: { Name?: string; Labels?: Record<string, string>; Data?: string };
}

export class SwarmNamespaces {
  constructor(
    private readonly docker: Docker,
    private readonly scope: SwarmScope,
    private readonly options: { defaultNamespace: string; log: Logger },
  ) {}

  /** Every namespace, the default one first. */
  async list(): Promise<NamespaceInfo[]> {
    const latest = await this.latestConfigs();
    const found = [...latest.values()].map(toNamespace);
    const others = found.filter((n) => n.name !== this.options.defaultNamespace).sort((a, b) => a.name.localeCompare(b.name));
    const own = found.find((n) => n.name === this.options.defaultNamespace) ?? { name: this.options.defaultNamespace, labels: {}, annotations: {} };
    return [own, ...others];
  }

  async exists(name: string): Promise<boolean> {
    return name === this.options.defaultNamespace || (await this.latestConfigs()).has(name);
  }

  /** Network ID -> namespace: the default network and the network each namespace claimed. */
  async networks(): Promise<Map<string, string>> {
    const map = new Map([[await this.scope.id(), this.options.defaultNamespace]]);
    for (const [name, config] of await this.latestConfigs()) {
      const network = claimedNetwork(config);
      if (network && name !== this.options.defaultNamespace) map.set(network, name);
    }
    return map;
  }

  /** The network ID of a namespace, or undefined when there is no such namespace. */
  async networkOf(name: string): Promise<string | undefined> {
    if (name === this.options.defaultNamespace) return this.scope.id();
    return claimedNetwork((await this.latestConfigs()).get(name));
  }

  /**
   * Claims the lowest free slot. Two gateways may claim the same one at
   * once: each then looks again, and the later claim gives way and tries
   * the next slot.
   */
  async create(namespace: NamespaceInfo): Promise<void> {
    const slots = await this.scope.slots();
    for (;;) {
      const configs = await this.latestConfigs();
      if (configs.has(namespace.name)) throw new ProviderError('conflict', `namespace ${namespace.name} already exists`);
      const claimed = new Set([...configs.values()].map(claimedNetwork));
      const free = slots.find((slot) => !claimed.has(slot.Id));
      if (!free) throw new ProviderError('conflict', noSlotMessage(namespace.name, slots.length));
      const mine = await this.writeMeta(namespace, 1, free.Id);
      if (await this.wonClaim(mine, free.Id)) break;
      await call(() => this.docker.getConfig(mine).remove()).catch(() => undefined);
    }
    this.options.log.info({ namespace: namespace.name }, 'namespace created');
  }

  async update(namespace: NamespaceInfo): Promise<void> {
    const configs = await this.latestConfigs();
    const current = configs.get(namespace.name);
    if (!current && namespace.name !== this.options.defaultNamespace) throw new ProviderError('not-found', `namespace ${namespace.name} not found`);
    await this.writeMeta(namespace, generationOf(current) + 1, claimedNetwork(current));
    await this.removeOlderConfigs(namespace.name);
  }

  /** Removes a namespace that holds no function (`functionsIn` names them), with its secrets; its network is free again. */
  async delete(name: string, functionsIn: (namespace: string) => Promise<string[]>, removeSecrets: (namespace: string) => Promise<void>): Promise<void> {
    if (name === this.options.defaultNamespace) throw new ProviderError('conflict', `the default namespace ${name} cannot be deleted`);
    if (!(await this.exists(name))) throw new ProviderError('not-found', `namespace ${name} not found`);
    const functions = await functionsIn(name);
    if (functions.length > 0) throw new ProviderError('conflict', `namespace ${name} still holds functions: ${functions.join(', ')}`);
    for (const config of await this.configsOf(name)) await call(() => this.docker.getConfig(config.ID).remove()).catch(() => undefined);
    await removeSecrets(name);
    this.options.log.info({ namespace: name }, 'namespace deleted');
  }

  /** Whether config `mine` holds the network alone, or claimed it first. */
  private async wonClaim(mine: string, network: string): Promise<boolean> {
    const rivals = [...(await this.latestConfigs()).values()].filter((c) => claimedNetwork(c) === network);
    const first = rivals.sort((a, b) => (a.CreatedAt ?? '').localeCompare(b.CreatedAt ?? '') || a.ID.localeCompare(b.ID))[0];
    return first?.ID === mine;
  }

  /** Writes one generation of a namespace's config; answers its ID. */
  private async writeMeta(namespace: NamespaceInfo, generation: number, network: string | undefined): Promise<string> {
    const labels = {
      ...(await this.scope.labels(namespace.name, 'namespace')),
      [GENERATION_LABEL]: String(generation),
      ...(network ? { [NETWORK_LABEL]: network } : {}),
    };
    const data = Buffer.from(JSON.stringify({ labels: namespace.labels, annotations: namespace.annotations })).toString('base64');
    const name = await nameFor(this.scope, namespace.name, generation);
    const created = (await call(() => this.docker.createConfig({ Name: name, Labels: labels, Data: data }))) as { id?: string; ID?: string };
    return created.id ?? created.ID ?? '';
  }

  private async removeOlderConfigs(name: string): Promise<void> {
    const configs = await this.configsOf(name);
    const newest = Math.max(...configs.map(generationOf));
    for (const config of configs) if (generationOf(config) < newest) await call(() => this.docker.getConfig(config.ID).remove()).catch(() => undefined);
  }

  private async configsOf(name: string): Promise<ConfigInfo[]> {
    return (await this.allConfigs()).filter((c) => c.Spec?.Labels?.[NAMESPACE_LABEL] === name);
  }

  private async allConfigs(): Promise<ConfigInfo[]> {
    const id = await this.scope.id();
    return (await call(() => this.docker.listConfigs({ filters: { label: [`${SCOPE_LABEL}=${id}`, `${KIND_LABEL}=namespace`] } }))) as ConfigInfo[];
  }

  /** The newest metadata config of each namespace. */
  private async latestConfigs(): Promise<Map<string, ConfigInfo>> {
    const latest = new Map<string, ConfigInfo>();
    for (const config of await this.allConfigs()) {
      const name = config.Spec?.Labels?.[NAMESPACE_LABEL];
      if (!name) continue;
      const seen = latest.get(name);
      if (!seen || generationOf(config) > generationOf(seen)) latest.set(name, config);
    }
    return latest;
  }
}

async function nameFor(scope: SwarmScope, namespace: string, generation: number): Promise<string> {
  return scope.objectName('ns', namespace, `v${generation}`);
}

function noSlotMessage(namespace: string, slots: number): string {
  if (slots === 0) return `namespace ${namespace}: this stack has no namespace networks (deploy it with ./deploy_stack.sh, NAMESPACE_SLOTS=8)`;
  return `namespace ${namespace}: all ${slots} namespace networks of this stack are in use; delete a namespace, or redeploy with NAMESPACE_SLOTS=${slots * 2} ./deploy_stack.sh`;
}

/** The network ID a namespace's config claimed. */
function claimedNetwork(config: ConfigInfo | undefined): string | undefined {
  return config?.Spec?.Labels?.[NETWORK_LABEL];
}

function generationOf(config: ConfigInfo | undefined): number {
  return Number(config?.Spec?.Labels?.[GENERATION_LABEL] ?? 0) || 0;
}

function toNamespace(config: ConfigInfo): NamespaceInfo {
  const name = config.Spec?.Labels?.[NAMESPACE_LABEL] ?? '';
  try {
    const meta = JSON.parse(Buffer.from(config.Spec?.Data ?? '', 'base64').toString('utf8')) as Partial<NamespaceInfo>;
    return { name, labels: meta.labels ?? {}, annotations: meta.annotations ?? {} };
  } catch {
    return { name, labels: {}, annotations: {} };
  }
}
