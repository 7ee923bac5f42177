// Namespaces on Swarm. A namespace is an overlay network of its own (its
// functions reach each other, not those of another namespace) plus its
// labels and annotations, kept in a Docker config (networks' labels cannot
// change; a config is replaced by a newer generation). The config says the
// namespace exists: it is written first and removed first, so a network
// without one is a leftover that any gateway of the scope cleans up.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { ProviderError, type NamespaceInfo } from '../types.js';
import { call } from './engine.js';
import { KIND_LABEL, SCOPE_LABEL, type SwarmScope } from './scope.js';
import { INTERNAL_PREFIX, NAMESPACE_LABEL } from './spec.js';

const GENERATION_LABEL = `${INTERNAL_PREFIX}generation`;

interface ConfigInfo {
  ID: string;
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

  async create(namespace: NamespaceInfo): Promise<void> {
    if (await this.exists(namespace.name)) throw new ProviderError('conflict', `namespace ${namespace.name} already exists`);
    await this.writeMeta(namespace, 1);
    const network = await this.scope.ensureNetwork(namespace.name);
    await this.scope.joinAll([network]);
    this.options.log.info({ namespace: namespace.name }, 'namespace created');
  }

  async update(namespace: NamespaceInfo): Promise<void> {
    const configs = await this.latestConfigs();
    const current = configs.get(namespace.name);
    if (!current && namespace.name !== this.options.defaultNamespace) throw new ProviderError('not-found', `namespace ${namespace.name} not found`);
    await this.writeMeta(namespace, generationOf(current) + 1);
    await this.removeOlderConfigs(namespace.name);
  }

  /** Removes a namespace that holds no function (`functionsIn` names them), with its secrets. */
  async delete(name: string, functionsIn: (namespace: string) => Promise<string[]>, removeSecrets: (namespace: string) => Promise<void>): Promise<void> {
    if (name === this.options.defaultNamespace) throw new ProviderError('conflict', `the default namespace ${name} cannot be deleted`);
    if (!(await this.exists(name))) throw new ProviderError('not-found', `namespace ${name} not found`);
    const functions = await functionsIn(name);
    if (functions.length > 0) throw new ProviderError('conflict', `namespace ${name} still holds functions: ${functions.join(', ')}`);
    for (const config of await this.configsOf(name)) await call(() => this.docker.getConfig(config.ID).remove()).catch(() => undefined);
    await removeSecrets(name);
    await this.removeLeftoverNetworks();
    this.options.log.info({ namespace: name }, 'namespace deleted');
  }

  /** Networks of the scope whose namespace no longer exists: this gateway leaves them, and removes them when nobody else is on them. */
  async removeLeftoverNetworks(): Promise<void> {
    const live = await this.latestConfigs();
    for (const network of await this.scope.namespaceNetworks()) {
      const namespace = network.Labels?.[NAMESPACE_LABEL];
      if (!namespace || live.has(namespace)) continue;
      await this.scope.leave(network.Id);
      // Fails while another gateway is still on it: it removes it itself when it looks.
      await call(() => this.docker.getNetwork(network.Id).remove()).catch(() => undefined);
    }
  }

  private async writeMeta(namespace: NamespaceInfo, generation: number): Promise<void> {
    const labels = { ...(await this.scope.labels(namespace.name, 'namespace')), [GENERATION_LABEL]: String(generation) };
    const data = Buffer.from(JSON.stringify({ labels: namespace.labels, annotations: namespace.annotations })).toString('base64');
    const name = await nameFor(this.scope, namespace.name, generation);
    await call(() => this.docker.createConfig({ Name: name, Labels: labels, Data: data }));
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
