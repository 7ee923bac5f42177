// The Provider on Docker Swarm, through the engine API (dockerode on
// /var/run/docker.sock). Every operation first checks that the service is a
// function: the gateway never touches a service that is not one.
import { Resolver } from 'node:dns/promises';
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { Logger } from 'pino';
import { decodeRegistryAuth } from '../validation.js';
import { buildServiceSpec, isFunctionService, toFunctionStatus, type ServiceInfo } from './swarm-spec.js';
import { demuxFrames, parseLogLine } from './swarm-logs.js';
import { liveTaskAddresses, type SwarmTask } from './swarm-task-addresses.js';
import { ProviderError, type FunctionDeployment, type FunctionStatus, type LogEntry, type LogQuery, type Provider } from './types.js';

export interface SwarmProviderOptions {
  /** Network new functions join; '' finds the gateway's own overlay network. */
  functionsNetwork: string;
  upstreamMode: 'dnsrr' | 'vip';
  functionPort: number;
  log: Logger;
  docker?: Docker;
}

interface DockerError extends Error {
  statusCode?: number;
  json?: { message?: string };
}

export class SwarmProvider implements Provider {
  private readonly docker: Docker;
  private readonly resolver = new Resolver({ timeout: 2000, tries: 1 });
  private defaultNetwork: Promise<string> | undefined;

  constructor(private readonly options: SwarmProviderOptions) {
    // No options: dockerode honours DOCKER_HOST (tcp://, unix://), else /var/run/docker.sock.
    this.docker = options.docker ?? new Docker();
  }

  async list(): Promise<FunctionStatus[]> {
    const [services, tasks] = await Promise.all([
      call(() => this.docker.listServices()),
      call(() => this.docker.listTasks({ filters: { 'desired-state': ['running'] } })),
    ]);
    const running = new Map<string, number>();
    for (const task of tasks as Array<{ ServiceID: string; Status?: { State?: string } }>) {
      if (task.Status?.State === 'running') running.set(task.ServiceID, (running.get(task.ServiceID) ?? 0) + 1);
    }
    return (services as ServiceInfo[]).filter(isFunctionService).map((service) => toFunctionStatus(service, running.get(service.ID) ?? 0));
  }

  async get(name: string): Promise<FunctionStatus | undefined> {
    const service = await this.inspectFunction(name);
    if (!service) return undefined;
    return toFunctionStatus(service, await this.runningTasks(service.ID));
  }

  async deploy(deployment: FunctionDeployment): Promise<void> {
    if (await this.inspectService(deployment.service)) {
      throw new ProviderError('conflict', `a service named ${deployment.service} already exists`);
    }
    const network = await this.resolveNetwork(deployment.network);
    const spec = buildServiceSpec(deployment, {
      network,
      endpointMode: this.options.upstreamMode,
      secretIds: await this.resolveSecrets(deployment.secrets ?? []),
      replicas: 1,
    });
    const auth = registryAuthFor(deployment);
    await call(() => this.docker.createService({ ...spec, ...(auth ? { authconfig: auth } : {}) }));
    this.options.log.info({ function: deployment.service, image: deployment.image }, 'function deployed');
  }

  async update(deployment: FunctionDeployment): Promise<void> {
    const service = await this.inspectFunction(deployment.service);
    if (!service) throw new ProviderError('not-found', `function ${deployment.service} not found`);
    const currentNetworks = (service.Spec?.TaskTemplate as Docker.ContainerTaskSpec | undefined)?.Networks ?? [];
    const network = deployment.network
      ? await this.resolveNetwork(deployment.network)
      : (currentNetworks[0]?.Target ?? (await this.resolveNetwork(undefined)));
    const spec = buildServiceSpec(deployment, {
      network,
      endpointMode: (service.Spec?.EndpointSpec?.Mode as 'dnsrr' | 'vip' | undefined) ?? this.options.upstreamMode,
      secretIds: await this.resolveSecrets(deployment.secrets ?? []),
      replicas: service.Spec?.Mode?.Replicated?.Replicas ?? 1,
    });
    // ForceUpdate makes every PUT roll the tasks, even when only the image's content changed under the same tag.
    const template = spec.TaskTemplate as Docker.ContainerTaskSpec;
    template.ForceUpdate = ((service.Spec?.TaskTemplate as Docker.ContainerTaskSpec | undefined)?.ForceUpdate ?? 0) + 1;
    const auth = registryAuthFor(deployment);
    await call(() =>
      this.docker.getService(service.ID).update({ version: service.Version?.Index, ...spec, ...(auth ? { authconfig: auth } : {}) }),
    );
    this.options.log.info({ function: deployment.service, image: deployment.image }, 'function updated');
  }

  async remove(name: string): Promise<void> {
    const service = await this.inspectFunction(name);
    if (!service) throw new ProviderError('not-found', `function ${name} not found`);
    await call(() => this.docker.getService(service.ID).remove());
    this.options.log.info({ function: name }, 'function removed');
  }

  async scale(name: string, replicas: number): Promise<void> {
    // Retry on a version conflict: the spec may change between inspect and update.
    for (let attempt = 0; ; attempt++) {
      const service = await this.inspectFunction(name);
      if (!service?.Spec) throw new ProviderError('not-found', `function ${name} not found`);
      if (!service.Spec.Mode?.Replicated) throw new ProviderError('invalid', `function ${name} is not a replicated service`);
      if (service.Spec.Mode.Replicated.Replicas === replicas) return;
      const spec = { ...service.Spec, Mode: { Replicated: { Replicas: replicas } } };
      try {
        await call(() => this.docker.getService(service.ID).update({ version: service.Version?.Index, ...spec }));
        return;
      } catch (error) {
        if (attempt < 2 && error instanceof ProviderError && /update out of sequence/i.test(error.message)) continue;
        throw error;
      }
    }
  }

  async *logs(query: LogQuery, signal: AbortSignal): AsyncIterable<LogEntry> {
    const service = await this.inspectFunction(query.name);
    if (!service) throw new ProviderError('not-found', `function ${query.name} not found`);
    const options = {
      stdout: true,
      stderr: true,
      timestamps: true,
      details: true,
      follow: query.follow,
      ...(query.tail !== undefined ? { tail: query.tail } : {}),
      ...(query.since ? { since: Math.floor(query.since.getTime() / 1000) } : {}),
      abortSignal: signal,
    };
    const output = (await call(() => this.docker.getService(service.ID).logs(options))) as unknown;
    // dockerode answers a Buffer without follow and a stream with it.
    const stream: Readable = Buffer.isBuffer(output) ? Readable.from([output]) : (output as Readable);
    const stop = () => stream.destroy();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const line of demuxFrames(stream)) yield parseLogLine(query.name, line);
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      signal.removeEventListener('abort', stop);
      stream.destroy();
    }
  }

  async endpoints(name: string): Promise<string[]> {
    const port = this.options.functionPort;
    if (this.options.upstreamMode === 'vip') return [`${name}:${port}`];
    try {
      const addresses = await this.resolver.resolve4(`tasks.${name}`);
      return addresses.sort().map((address) => `${address}:${port}`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
      throw new ProviderError('unavailable', `cannot resolve tasks.${name}: ${code ?? String(error)}`);
    }
  }

  async startingEndpoints(name: string): Promise<string[]> {
    if (this.options.upstreamMode === 'vip') return [];
    const service = await this.inspectFunction(name);
    if (!service) return [];
    const tasks = (await call(() =>
      this.docker.listTasks({ filters: { service: [service.ID], 'desired-state': ['running'] } }),
    )) as SwarmTask[];
    // Only the network the gateway shares with functions: an address on another network could be anyone's.
    const wanted = this.options.functionsNetwork || (await (this.defaultNetwork ??= this.findOwnNetwork()));
    return liveTaskAddresses(tasks, service.ID, (n) => n.name === wanted || n.id === wanted, this.options.functionPort);
  }

  watch(onChange: (name: string) => void): () => void {
    let stopped = false;
    let current: NodeJS.ReadableStream | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    const connect = async () => {
      if (stopped) return;
      try {
        const stream = await this.docker.getEvents({ filters: { type: ['service', 'container'], event: WATCHED_EVENTS } });
        current = stream;
        let buffered = '';
        stream.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            const name = serviceNameOfEvent(line);
            if (name) onChange(name);
          }
        });
        const reconnect = () => {
          if (current !== stream || stopped) return;
          current = undefined;
          this.options.log.warn('docker event stream ended; reconnecting');
          retryTimer = setTimeout(() => void connect(), 1000);
        };
        stream.on('end', reconnect);
        stream.on('error', reconnect);
      } catch (error) {
        this.options.log.warn({ err: error }, 'cannot read docker events; retrying');
        retryTimer = setTimeout(() => void connect(), 2000);
      }
    };
    void connect();
    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      (current as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    };
  }

  /** The service when it exists under exactly this name (inspect also matches ID prefixes). */
  private async inspectService(name: string): Promise<ServiceInfo | undefined> {
    try {
      const service = (await withDeadline(() => this.docker.getService(name).inspect())) as ServiceInfo;
      return service.Spec?.Name === name ? service : undefined;
    } catch (error) {
      if ((error as DockerError).statusCode === 404) return undefined;
      throw toProviderError(error);
    }
  }

  private async inspectFunction(name: string): Promise<ServiceInfo | undefined> {
    const service = await this.inspectService(name);
    return service && isFunctionService(service) ? service : undefined;
  }

  private async runningTasks(serviceId: string): Promise<number> {
    const tasks = (await call(() =>
      this.docker.listTasks({ filters: { service: [serviceId], 'desired-state': ['running'] } }),
    )) as Array<{ Status?: { State?: string } }>;
    return tasks.filter((task) => task.Status?.State === 'running').length;
  }

  private async resolveNetwork(requested: string | undefined): Promise<string> {
    const name = requested || this.options.functionsNetwork;
    if (!name) {
      this.defaultNetwork ??= this.findOwnNetwork();
      return this.defaultNetwork;
    }
    try {
      const network = (await withDeadline(() => this.docker.getNetwork(name).inspect())) as { Id: string; Scope?: string; Driver?: string };
      if (network.Scope !== 'swarm') throw new ProviderError('invalid', `network: ${name} is not a swarm-scoped (overlay) network`);
      return network.Id;
    } catch (error) {
      if ((error as DockerError).statusCode === 404) throw new ProviderError('invalid', `network: no network named ${name}`);
      throw toProviderError(error);
    }
  }

  /** The overlay network of the gateway's own container (when FUNCTIONS_NETWORK is unset). */
  private async findOwnNetwork(): Promise<string> {
    try {
      const container = (await withDeadline(() => this.docker.getContainer(hostname()).inspect())) as {
        NetworkSettings?: { Networks?: Record<string, { NetworkID: string }> };
      };
      for (const [name, attachment] of Object.entries(container.NetworkSettings?.Networks ?? {})) {
        if (name === 'ingress') continue;
        const network = (await withDeadline(() => this.docker.getNetwork(attachment.NetworkID).inspect())) as { Scope?: string };
        if (network.Scope === 'swarm') return attachment.NetworkID;
      }
    } catch (error) {
      // Not running in a container: fall through. An engine that did not answer is said as such (and asked again next time).
      if (error instanceof ProviderError) {
        this.defaultNetwork = undefined;
        throw error;
      }
    }
    this.defaultNetwork = undefined;
    throw new ProviderError('invalid', 'network: none given and FUNCTIONS_NETWORK is not set');
  }

  private async resolveSecrets(names: string[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    if (names.length === 0) return ids;
    const secrets = (await call(() => this.docker.listSecrets({ filters: { name: names } }))) as Array<{
      ID: string;
      Spec?: { Name?: string };
    }>;
    for (const secret of secrets) if (secret.Spec?.Name) ids.set(secret.Spec.Name, secret.ID);
    const missing = names.filter((name) => !ids.has(name));
    if (missing.length > 0) throw new ProviderError('invalid', `secrets: no Docker secret named ${missing.join(', ')}`);
    return ids;
  }
}

/**
 * The events that can change a function's status. Not exec_create/exec_start/
 * exec_die: every HEALTHCHECK of every container on the engine makes those
 * three (most of the stream), and each one made the view re-read the function
 * (measured: 44 ms of gateway CPU per idle second). The engine matches an
 * action's part before ':' ("health_status: healthy").
 */
const WATCHED_EVENTS = ['create', 'update', 'remove', 'start', 'restart', 'die', 'kill', 'stop', 'destroy', 'oom', 'pause', 'unpause', 'health_status'];

/** The swarm service a Docker event is about, if any. */
export function serviceNameOfEvent(line: string): string | undefined {
  try {
    const event = JSON.parse(line) as { Type?: string; Actor?: { Attributes?: Record<string, string> } };
    const attributes = event.Actor?.Attributes ?? {};
    if (event.Type === 'service') return attributes.name;
    if (event.Type === 'container') return attributes['com.docker.swarm.service.name'];
  } catch {
    // Not JSON: ignore.
  }
  return undefined;
}

function registryAuthFor(deployment: FunctionDeployment): Docker.AuthConfig | undefined {
  if (!deployment.registryAuth) return undefined;
  const credentials = decodeRegistryAuth(deployment.registryAuth);
  if (!credentials) return undefined;
  const first = deployment.image.split('/')[0] ?? '';
  // The registry is the first path part when it looks like a host (has a dot or port, or is localhost).
  const serveraddress = deployment.image.includes('/') && /[.:]|^localhost$/.test(first) ? first : 'https://index.docker.io/v1/';
  return { ...credentials, serveraddress };
}

/**
 * How long one engine API call may take. An engine that accepts connections
 * but never answers (hung, or a paused proxy in front of it) would otherwise
 * hold /system/* requests and the function view's resync forever.
 */
export const ENGINE_CALL_TIMEOUT_MS = 8_000;

async function withDeadline<T>(operation: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProviderError('unavailable', `docker: the engine did not answer within ${ENGINE_CALL_TIMEOUT_MS / 1000} s`)),
      ENGINE_CALL_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([operation(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function call<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await withDeadline(operation);
  } catch (error) {
    throw toProviderError(error);
  }
}

function toProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const dockerError = error as DockerError;
  const message = dockerError.json?.message ?? dockerError.message ?? String(error);
  // Two writers raced on the same service (Swarm's optimistic versioning): a conflict, not an outage.
  if (/update out of sequence/i.test(message)) return new ProviderError('conflict', message);
  switch (dockerError.statusCode) {
    case 404:
      return new ProviderError('not-found', message);
    case 409:
      return new ProviderError('conflict', message);
    case 400:
      return new ProviderError('invalid', message);
    default:
      return new ProviderError('unavailable', `docker: ${message}`);
  }
}

