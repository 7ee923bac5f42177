// What belongs to this gateway on the swarm: its functions network (the
// default namespace's) and the networks of its other namespaces. Everything
// the gateway creates carries the scope's labels; a function is one of its
// functions only when it is on one of these networks, so another stack's
// functions are invisible to it. The gateway's own container (and the queue
// worker's) joins every namespace network, so it can reach their functions
// while they cannot reach each other.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { ProviderError } from '../types.js';
import { call, isNotFound, toProviderError, withDeadline } from './engine.js';
import { INTERNAL_PREFIX, NAMESPACE_LABEL } from './spec.js';

export const SCOPE_LABEL = `${INTERNAL_PREFIX}scope`;
export const KIND_LABEL = `${INTERNAL_PREFIX}kind`;

interface NetworkInfo {
  Id: string;
  Name: string;
  Scope?: string;
  Labels?: Record<string, string>;
}

export interface ScopeOptions {
  /** The default namespace's network; '' finds the gateway's own overlay network. */
  functionsNetwork: string;
  defaultNamespace: string;
  log: Logger;
}

export class SwarmScope {
  private functionsNetwork: Promise<NetworkInfo> | undefined;
  /** Networks this process's container was seen attached to (or joined). */
  private readonly joined = new Set<string>();
  private inContainer: boolean | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly options: ScopeOptions,
  ) {}

  /** The default namespace's network (FUNCTIONS_NETWORK, else the gateway's own overlay network). */
  defaultNetwork(): Promise<NetworkInfo> {
    this.functionsNetwork ??= (this.options.functionsNetwork ? this.inspectNetwork(this.options.functionsNetwork) : this.findOwnNetwork()).catch(
      (error: unknown) => {
        // Asked again next time: the engine may answer then.
        this.functionsNetwork = undefined;
        throw error;
      },
    );
    return this.functionsNetwork;
  }

  /** The scope's identity in labels: the default network's ID. */
  async id(): Promise<string> {
    return (await this.defaultNetwork()).Id;
  }

  /** Labels that mark an object as this scope's, for `namespace`. */
  async labels(namespace: string, kind: string): Promise<Record<string, string>> {
    return { [SCOPE_LABEL]: await this.id(), [NAMESPACE_LABEL]: namespace, [KIND_LABEL]: kind };
  }

  /** A Docker object name for this scope (at most 63 characters: readable when it fits, hashed when not). */
  async objectName(kind: string, ...parts: string[]): Promise<string> {
    const scope = (await this.id()).slice(0, 8);
    const readable = `sfaas-${scope}-${kind}-${parts.join('-')}`;
    if (readable.length <= 63) return readable;
    return `sfaas-${scope}-${kind}-${createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 16)}-${parts.at(-1)}`;
  }

  /** Network ID -> namespace, for every network of this scope. */
  async networks(): Promise<Map<string, string>> {
    const own = await this.defaultNetwork();
    const map = new Map([[own.Id, this.options.defaultNamespace]]);
    for (const network of await this.namespaceNetworks()) {
      const namespace = network.Labels?.[NAMESPACE_LABEL];
      if (namespace && namespace !== this.options.defaultNamespace) map.set(network.Id, namespace);
    }
    return map;
  }

  async namespaceNetworks(): Promise<NetworkInfo[]> {
    const id = await this.id();
    const networks = (await call(() => this.docker.listNetworks({ filters: { label: [`${SCOPE_LABEL}=${id}`, `${KIND_LABEL}=namespace`] } }))) as NetworkInfo[];
    return networks.filter((n) => n.Scope === 'swarm');
  }

  /** The network ID of a namespace, or undefined when it has none. */
  async networkOf(namespace: string): Promise<string | undefined> {
    if (namespace === this.options.defaultNamespace) return (await this.defaultNetwork()).Id;
    const found = (await this.namespaceNetworks()).find((n) => n.Labels?.[NAMESPACE_LABEL] === namespace);
    return found?.Id;
  }

  /** Creates the namespace's network (an attachable overlay) unless it exists; answers its ID. */
  async ensureNetwork(namespace: string): Promise<string> {
    const existing = await this.networkOf(namespace);
    if (existing) return existing;
    // The scope's ID in the name: a network a removed stack left behind under the same stack name is not in the way.
    const name = `${(await this.defaultNetwork()).Name}-${(await this.id()).slice(0, 8)}-${namespace}`;
    const labels = await this.labels(namespace, 'namespace');
    try {
      const created = (await call(() => this.docker.createNetwork({ Name: name, Driver: 'overlay', Attachable: true, CheckDuplicate: true, Labels: labels }))) as { id: string };
      return created.id;
    } catch (error) {
      // Another gateway made it a moment ago.
      const again = await this.networkOf(namespace);
      if (again) return again;
      throw error;
    }
  }

  /** Joins this process's container to every namespace network it is not on yet (no-op outside a container). */
  async joinAll(networkIds: Iterable<string>): Promise<void> {
    const wanted = [...networkIds].filter((id) => !this.joined.has(id));
    if (wanted.length === 0 || this.inContainer === false) return;
    const container = await this.ownContainer();
    if (!container) return;
    const attached = new Set(Object.values(container.NetworkSettings?.Networks ?? {}).map((n) => n.NetworkID));
    for (const id of wanted) {
      if (!attached.has(id)) {
        try {
          await call(() => this.docker.getNetwork(id).connect({ Container: hostname() }));
          this.options.log.info({ network: id }, 'joined a namespace network');
        } catch (error) {
          this.options.log.warn({ err: error, network: id }, 'cannot join a namespace network yet; retrying');
          continue;
        }
      }
      this.joined.add(id);
    }
  }

  /** Leaves a namespace network (before it is removed). */
  async leave(networkId: string): Promise<void> {
    this.joined.delete(networkId);
    if (this.inContainer === false) return;
    await call(() => this.docker.getNetwork(networkId).disconnect({ Container: hostname(), Force: true })).catch(() => undefined);
  }

  private async ownContainer(): Promise<{ NetworkSettings?: { Networks?: Record<string, { NetworkID: string }> } } | undefined> {
    try {
      const container = (await withDeadline(() => this.docker.getContainer(hostname()).inspect())) as {
        NetworkSettings?: { Networks?: Record<string, { NetworkID: string }> };
      };
      this.inContainer = true;
      return container;
    } catch (error) {
      if (error instanceof ProviderError) throw error; // the engine did not answer
      this.inContainer = false;
      return undefined;
    }
  }

  private async inspectNetwork(name: string): Promise<NetworkInfo> {
    try {
      const network = (await withDeadline(() => this.docker.getNetwork(name).inspect())) as NetworkInfo;
      if (network.Scope !== 'swarm') throw new ProviderError('invalid', `network: ${name} is not a swarm-scoped (overlay) network`);
      return network;
    } catch (error) {
      if (isNotFound(error)) throw new ProviderError('invalid', `network: no network named ${name}`);
      throw toProviderError(error);
    }
  }

  /** The overlay network of the gateway's own container (when FUNCTIONS_NETWORK is unset). */
  private async findOwnNetwork(): Promise<NetworkInfo> {
    const container = await this.ownContainer();
    if (!container) throw new ProviderError('invalid', 'network: FUNCTIONS_NETWORK is not set and the gateway runs in no container');
    for (const [name, attachment] of Object.entries(container.NetworkSettings?.Networks ?? {})) {
      if (name === 'ingress') continue;
      const network = (await call(() => this.docker.getNetwork(attachment.NetworkID).inspect())) as NetworkInfo;
      if (network.Scope === 'swarm' && network.Labels?.[KIND_LABEL] !== 'namespace') return network;
    }
    throw new ProviderError('invalid', 'network: FUNCTIONS_NETWORK is not set and the gateway is on no overlay network');
  }
}
