// What belongs to this gateway on the swarm: its functions network (the
// default namespace's) and its stack's namespace networks (slots a namespace
// claims). Everything the gateway creates carries the scope's labels; a
// function is one of its functions only when it is on one of these networks,
// so another stack's functions are invisible to it. The services that invoke
// functions (gateway, queue worker, connector) are on every namespace
// network: they reach the functions of every namespace, which cannot reach
// each other.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { ProviderError } from '../types.js';
import { call, isNotFound, toProviderError, withDeadline } from './engine.js';
import { INTERNAL_PREFIX, NAMESPACE_LABEL } from './spec.js';

export const SCOPE_LABEL = `${INTERNAL_PREFIX}scope`;
export const KIND_LABEL = `${INTERNAL_PREFIX}kind`;
/** The kind label of a namespace network (docker-compose, one per slot). */
export const SLOT_KIND = 'namespace-slot';
const SLOT_LABEL = `${INTERNAL_PREFIX}slot`;
const STACK_LABEL = 'com.docker.stack.namespace';

export interface NetworkInfo {
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

  /**
   * The namespace networks of this stack, by slot number. They are declared
   * with the stack (deploy_stack.sh, NAMESPACE_SLOTS), so the services that
   * invoke functions are on all of them from the start: Swarm gives every
   * container its address. (Joining a network later with
   * `docker network connect` does not go through Swarm's allocator for a
   * service's container; a function's task can then be given the same
   * address, and fails with "Address already in use".)
   */
  async slots(): Promise<NetworkInfo[]> {
    const stack = (await this.defaultNetwork()).Labels?.[STACK_LABEL];
    if (!stack) return [];
    const networks = (await call(() =>
      this.docker.listNetworks({ filters: { label: [`${STACK_LABEL}=${stack}`, `${KIND_LABEL}=${SLOT_KIND}`] } }),
    )) as NetworkInfo[];
    return networks.filter((n) => n.Scope === 'swarm').sort((a, b) => slotNumber(a) - slotNumber(b));
  }

  private async ownContainer(): Promise<{ NetworkSettings?: { Networks?: Record<string, { NetworkID: string }> } } | undefined> {
    try {
      const container = (await withDeadline(() => this.docker.getContainer(hostname()).inspect())) as {
        NetworkSettings?: { Networks?: Record<string, { NetworkID: string }> };
      };
      return container;
    } catch (error) {
      if (error instanceof ProviderError) throw error; // the engine did not answer
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
      if (network.Scope === 'swarm' && network.Labels?.[KIND_LABEL] !== SLOT_KIND) return network;
    }
    throw new ProviderError('invalid', 'network: FUNCTIONS_NETWORK is not set and the gateway is on no overlay network');
  }
}

function slotNumber(network: NetworkInfo): number {
  return Number(network.Labels?.[SLOT_LABEL] ?? Number.MAX_SAFE_INTEGER);
}
