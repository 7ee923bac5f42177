// The builder's use of the Docker engine (a manager's, through its socket):
// builds, pushes, and what the image policy needs to know. The only module
// that imports dockerode.
import Docker from 'dockerode';
import { BuildProgress, JsonLines } from './build-progress.js';
import { BUILDER_LABEL, canonicalRepository, type ImageFacts } from './image-policy.js';

export type Backend = 'buildkit' | 'classic';

export interface BuildRequest {
  /** The context, as a tar file. */
  contextFile: string;
  image: string;
  buildArgs: Record<string, string>;
  platform: string | undefined;
  stackName: string;
  backend: Backend;
  /** Every step runs again (no build cache); base images are still taken from the engine. */
  noCache: boolean;
  /** Classic builder only. */
  cpuShares: number;
  memory: number;
  signal: AbortSignal;
  onLines(lines: string[]): void;
}

export type BuildOutcome = { ok: true; imageId: string } | { ok: false; error: string; engine: boolean };

export class Engine implements ImageFacts {
  private readonly docker: Docker;

  constructor() {
    this.docker = new Docker();
  }

  /** BuildKit when the engine has it: API 1.39 (Docker 18.09) and later, on Linux. */
  async chooseBackend(wanted: 'auto' | Backend): Promise<Backend> {
    if (wanted !== 'auto') return wanted;
    const version = await this.docker.version();
    const [major = 0, minor = 0] = String(version.ApiVersion).split('.').map(Number);
    return version.Os === 'linux' && (major > 1 || (major === 1 && minor >= 39)) ? 'buildkit' : 'classic';
  }

  async nodeCount(): Promise<number> {
    try {
      return (await this.docker.listNodes()).length;
    } catch {
      return 1; // not a swarm manager (a plain engine): one node
    }
  }

  async localImageLabels(full: string): Promise<Record<string, string> | undefined> {
    try {
      const info = await this.docker.getImage(full).inspect();
      return info.Config?.Labels ?? {};
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  async servicesUsing(canonical: string): Promise<{ service: string; stack: string | undefined }[]> {
    let services: Docker.Service[];
    try {
      services = await this.docker.listServices();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 503) return []; // not a swarm
      throw error;
    }
    return services
      .filter((s) => {
        const image = (s.Spec?.TaskTemplate as Docker.ContainerTaskSpec | undefined)?.ContainerSpec?.Image;
        return image !== undefined && canonicalRepository(image) === canonical;
      })
      .map((s) => ({ service: s.Spec?.Name ?? s.ID, stack: s.Spec?.Labels?.['com.docker.stack.namespace'] }));
  }

  private async imageId(name: string): Promise<string | undefined> {
    try {
      return (await this.docker.getImage(name).inspect()).Id;
    } catch {
      return undefined;
    }
  }

  async build(request: BuildRequest): Promise<BuildOutcome> {
    const previous = await this.imageId(request.image);
    const options: Record<string, unknown> = {
      t: request.image,
      buildargs: request.buildArgs,
      labels: { [BUILDER_LABEL]: request.stackName },
      rm: true,
      forcerm: true,
      version: request.backend === 'buildkit' ? '2' : '1',
    };
    if (request.platform) options.platform = request.platform;
    if (request.noCache) options.nocache = true;
    if (request.backend === 'classic') {
      options.cpushares = request.cpuShares;
      if (request.memory > 0) options.memory = request.memory;
    }
    let stream: NodeJS.ReadableStream;
    try {
      stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
        this.docker.modem.dial(
          {
            path: '/build?',
            method: 'POST',
            options,
            file: request.contextFile,
            isStream: true,
            abortSignal: request.signal,
            headers: { 'Content-Type': 'application/x-tar' },
            statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
          },
          (error, result) => (error ? reject(error) : resolve(result as NodeJS.ReadableStream)),
        ),
      );
    } catch (error) {
      if (request.signal.aborted) return { ok: false, error: String(request.signal.reason ?? 'stopped'), engine: false };
      return { ok: false, error: `the engine refused the build: ${(error as Error).message}`, engine: true };
    }

    const progress = new BuildProgress();
    const lines = new JsonLines();
    let error: string | undefined;
    let imageId: string | undefined;
    const take = (messages: Record<string, unknown>[]) => {
      for (const message of messages) {
        const event = progress.read(message);
        if (event.lines.length) request.onLines(event.lines);
        if (event.error) error ??= event.error;
        if (event.imageId) imageId = event.imageId;
      }
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) take(lines.push(chunk));
      take(lines.end());
    } catch (streamError) {
      if (request.signal.aborted) return { ok: false, error: String(request.signal.reason ?? 'stopped'), engine: false };
      return { ok: false, error: `the engine's build output broke off: ${(streamError as Error).message}`, engine: true };
    }
    if (request.signal.aborted) return { ok: false, error: String(request.signal.reason ?? 'stopped'), engine: false };
    if (error) return { ok: false, error, engine: false };
    // The classic builder names the image only in "Successfully built <id>"; the tag tells in any case.
    imageId ??= await this.imageId(request.image);
    if (!imageId) return { ok: false, error: 'the engine reported no image', engine: true };
    if (previous && previous !== imageId) {
      // The previous build of this name is now untagged: let it go unless something still uses it.
      this.docker.getImage(previous).remove().catch(() => undefined);
    }
    return { ok: true, imageId };
  }

  /** Pushes the image; resolves with its digest, or the error. */
  async push(image: { repository: string; tag: string }, signal: AbortSignal, onLines: (lines: string[]) => void): Promise<{ ok: true; digest: string } | { ok: false; error: string }> {
    const name = `${image.repository}:${image.tag}`;
    try {
      // An empty X-Registry-Auth (the stack's registry needs none): engines before API 1.42 refuse a push without the header.
      const options = { tag: image.tag, authconfig: {}, abortSignal: signal };
      const stream = (await this.docker.getImage(image.repository).push(options as Record<string, unknown>)) as NodeJS.ReadableStream;
      const lines = new JsonLines();
      let error: string | undefined;
      let digest = '';
      const take = (messages: Record<string, unknown>[]) => {
        for (const m of messages) {
          if (typeof m.error === 'string') error ??= m.error;
          const aux = m.aux as { Digest?: string } | undefined;
          if (aux?.Digest) digest = aux.Digest;
          if (typeof m.status === 'string' && !/^(Preparing|Waiting|Pushing)$/.test(m.status)) {
            onLines([`${m.id ? `${String(m.id)}: ` : ''}${m.status}`]);
          }
        }
      };
      for await (const chunk of stream as AsyncIterable<Buffer>) take(lines.push(chunk));
      take(lines.end());
      if (error) return { ok: false, error: `pushing ${name} failed: ${error}` };
      return { ok: true, digest };
    } catch (error) {
      return { ok: false, error: `pushing ${name} failed: ${(error as Error).message}` };
    }
  }
}
