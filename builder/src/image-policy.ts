// Which image names a build may write. Anyone who may build may name any
// image, and a build that overwrote the stack's own images (the watchdog
// every function starts FROM, the gateway) or another stack's would run
// their code wherever those run. So a name is refused when it is:
//  - not a valid image name (400),
//  - outside BUILD_IMAGE_PREFIX, when that is set (403),
//  - reserved: one of the stack's own repositories (BUILD_RESERVED) (403),
//  - run by a service of a stack (this one's own services, or another's) (403),
//  - already on this engine and not built by this stack's builder (403): an
//    image of someone else's (another stack's builder, a `docker build`),
//  - not pushed on a swarm of several nodes (BUILD_REQUIRE_PUSH), where
//    another node could not pull it (400).

/** The label this builder puts on every image it builds: the stack it belongs to. */
export const BUILDER_LABEL = 'com.swarmfaas.builder.stack';

export interface ImageName {
  /** As given, with ":latest" when no tag was given: the name the engine tags. */
  full: string;
  /** The repository as given (no tag). */
  repository: string;
  tag: string;
  /** The repository with Docker's implicit parts spelled out (docker.io/library/...), for comparisons. */
  canonical: string;
}

const DOMAIN = /^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]{1,5})?$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** Parses an image name as Docker reads it (no digests: a build makes a tag). */
export function parseImageName(text: string): { ok: true; name: ImageName } | { ok: false; reason: string } {
  const bad = (why: string) => ({ ok: false as const, reason: `"${text}" is not an image name this builder can tag: ${why}` });
  if (text.length > 255) return bad('longer than 255 characters');
  if (text.includes('@')) return bad('a digest (@sha256:...) names existing content: give a tag instead');
  const lastSlash = text.lastIndexOf('/');
  const lastColon = text.lastIndexOf(':');
  const hasTag = lastColon > lastSlash;
  const repository = hasTag ? text.slice(0, lastColon) : text;
  const tag = hasTag ? text.slice(lastColon + 1) : 'latest';
  if (!TAG.test(tag)) return bad(`the tag "${tag}" may hold letters, digits, _, . and - (128 at most)`);
  const parts = repository.split('/');
  let domain: string | undefined;
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) {
    domain = parts.shift()!;
    if (!DOMAIN.test(domain)) return bad(`"${domain}" is not a registry host`);
  }
  if (parts.length === 0 || parts.some((part) => !COMPONENT.test(part))) {
    return bad('the name is lower-case letters and digits, separated by /, and ., _ or - within a part');
  }
  const path = parts.join('/');
  const canonical = domain ? `${domain}/${path}` : `docker.io/${parts.length === 1 ? `library/${path}` : path}`;
  return { ok: true, name: { full: `${repository}:${tag}`, repository, tag, canonical } };
}

/** The canonical repository of an image reference as a service or the engine names it ("name:tag@sha256:..."). */
export function canonicalRepository(reference: string): string | undefined {
  const withoutDigest = reference.split('@')[0]!;
  const parsed = parseImageName(withoutDigest);
  return parsed.ok ? parsed.name.canonical : undefined;
}

export interface PolicySettings {
  stackName: string;
  /** Only names under it, when not empty. */
  imagePrefix: string;
  /** Repositories, or prefixes ending in "/", never written. */
  reserved: readonly string[];
  /** Prefixes whose images are pushed once built. */
  pushPrefixes: readonly string[];
  requirePush: boolean;
  /** Nodes in the swarm (for the message when an image would not reach them). */
  nodes: () => Promise<number>;
}

/** What the engine knows about a name (provided by engine.ts; faked in unit tests). */
export interface ImageFacts {
  /** The labels of the local image with this full name, or undefined when there is none. */
  localImageLabels(full: string): Promise<Record<string, string> | undefined>;
  /** Services whose image has this canonical repository, with the stack that deployed them (if any). */
  servicesUsing(canonical: string): Promise<{ service: string; stack: string | undefined }[]>;
}

export type Verdict = { ok: true; name: ImageName; push: boolean } | { ok: false; status: 400 | 403; reason: string };

const underPrefix = (name: ImageName, prefix: string): boolean => name.full.startsWith(prefix) || name.canonical.startsWith(canonicalPrefix(prefix));

function canonicalPrefix(prefix: string): string {
  const probe = parseImageName(`${prefix.replace(/\/$/, '')}/x`);
  return probe.ok ? probe.name.canonical.slice(0, -1) : prefix;
}

function isReserved(name: ImageName, entry: string): boolean {
  if (entry.endsWith('/')) return underPrefix(name, entry);
  const reserved = parseImageName(entry.split(':')[0]!);
  return reserved.ok && reserved.name.canonical === name.canonical;
}

export async function judgeImage(text: string, skipPush: boolean, settings: PolicySettings, facts: ImageFacts): Promise<Verdict> {
  const parsed = parseImageName(text);
  if (!parsed.ok) return { ok: false, status: 400, reason: parsed.reason };
  const { name } = parsed;
  if (settings.imagePrefix && !underPrefix(name, settings.imagePrefix)) {
    return { ok: false, status: 403, reason: `${name.full}: this builder writes only images under ${settings.imagePrefix} (BUILD_IMAGE_PREFIX)` };
  }
  const reservedBy = settings.reserved.find((entry) => isReserved(name, entry));
  if (reservedBy) {
    return { ok: false, status: 403, reason: `${name.full} is one of the stack's own images (${reservedBy}): a build may not replace it; choose another name` };
  }
  const users = (await facts.servicesUsing(name.canonical)).filter((s) => s.stack !== undefined);
  if (users.length > 0) {
    const { service, stack } = users[0]!;
    const whose = stack === settings.stackName ? "this stack's own service" : `a service of the stack ${stack}`;
    return { ok: false, status: 403, reason: `${name.repository} is the image of ${whose} ${service}: a build may not replace it; choose another name` };
  }
  const labels = await facts.localImageLabels(name.full);
  if (labels && labels[BUILDER_LABEL] !== settings.stackName) {
    const owner = labels[BUILDER_LABEL] ? `the builder of the stack ${labels[BUILDER_LABEL]}` : 'something other than this builder';
    return { ok: false, status: 403, reason: `${name.full} already exists on this engine, made by ${owner}: a build may not replace it; choose another name` };
  }
  const push = !skipPush && settings.pushPrefixes.some((prefix) => underPrefix(name, prefix));
  if (settings.requirePush && !skipPush && !push) {
    const nodes = await settings.nodes();
    const example = `${settings.pushPrefixes[0] ?? '<registry>/'}${name.repository.split('/').at(-1)}:${name.tag}`;
    return {
      ok: false,
      status: 400,
      reason: `${name.full} would exist only on the node that builds it, and this swarm has ${nodes} nodes: name it under ${settings.pushPrefixes.join(' or ') || 'a registry every node can pull from'} (e.g. ${example}) so it is pushed where every node can pull it`,
    };
  }
  return { ok: true, name, push };
}
