// com.openfaas.docker.config: the build's settings, as the OpenFaaS builder
// API defines them (Go clients send null for an empty map or list).
import { z } from 'zod';

const schema = z.object({
  image: z.string({ error: 'image is required: the name (and tag) to build, e.g. hello:latest' }).trim().min(1, 'image must not be empty'),
  buildArgs: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'build argument names are letters, digits and _'), z.string())
    .nullish()
    .transform((args) => args ?? {}),
  platforms: z
    .array(z.string().trim().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, 'a platform is os/arch[/variant], e.g. linux/arm64'))
    .nullish()
    .transform((platforms) => platforms ?? []),
  skipPush: z
    .boolean()
    .nullish()
    .transform((skip) => skip ?? false),
});

export type BuildConfig = z.output<typeof schema>;

export type ParsedConfig = { ok: true; config: BuildConfig } | { ok: false; reason: string };

export function parseBuildConfig(raw: Buffer | undefined): ParsedConfig {
  if (!raw) return { ok: false, reason: 'the tar holds no com.openfaas.docker.config (the build settings: {"image": "..."})' };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `com.openfaas.docker.config is not JSON: ${(error as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `com.openfaas.docker.config: ${parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')}` };
  }
  if (parsed.data.platforms.length > 1) {
    return {
      ok: false,
      reason: `platforms: ${parsed.data.platforms.join(', ')}: this builder builds one platform per build (the engine's image store holds one image per name); build each platform under its own tag`,
    };
  }
  return { ok: true, config: parsed.data };
}
