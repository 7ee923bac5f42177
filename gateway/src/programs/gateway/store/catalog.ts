// The function store's catalog in OpenFaaS's store format (functions.json,
// version 0.2.1: what `faas-cli store list|deploy --url` read): the built-in
// one, made from one record per sample function (functions/<name>/store.json,
// so adding an entry is adding a folder with its record), and reading a
// catalog someone else publishes. Pure, but for reading the records' files.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { answerRegistry } from '../api/answers.js';

/** The store's names of the architectures a catalog entry has an image for. */
export const PLATFORMS = ['x86_64', 'arm64', 'armhf'] as const;
export type Platform = (typeof PLATFORMS)[number];

const text = (max: number) => z.string().max(max);
const stringMap = z.record(text(256), text(4096));

/** One entry, as the gateway hands it on: known fields only, each of the type the format gives it. */
export const storeFunctionSchema = z.object({
  title: text(200).optional(),
  name: text(200),
  description: text(4000).optional(),
  images: z.partialRecord(z.enum(PLATFORMS), text(512)).optional().describe('the image per architecture: x86_64, arm64, armhf'),
  fprocess: text(1000).optional(),
  network: text(200).optional(),
  repo_url: text(1000).optional(),
  icon: text(2000).optional(),
  author: text(200).optional(),
  environment: stringMap.optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
});
answerRegistry.add(storeFunctionSchema, { id: 'StoreFunction', description: 'One function of a store catalog (OpenFaaS store format 0.2.1).' });

export const catalogSchema = z.object({ version: z.string(), functions: z.array(storeFunctionSchema) });
answerRegistry.add(catalogSchema, { id: 'StoreCatalog', description: "A store catalog in OpenFaaS's functions.json format (version 0.2.1)." });

export type StoreFunction = z.output<typeof storeFunctionSchema>;
export type Catalog = z.output<typeof catalogSchema>;

/** A record of the built-in catalog: an entry whose images may be left out (then: the stack's own image of that folder). */
const recordSchema = storeFunctionSchema.extend({ images: storeFunctionSchema.shape.images, name: text(200).optional() }).strict();

export interface RecordImages {
  /** Where the stack's images are: FAAS_REPO (swarmfaas, or a registry's address). */
  repo: string;
  tag: string;
}

/**
 * The built-in catalog from the records under `dir` (`<dir>/<folder>/store.json`).
 * A record without `images` gets `<repo>/<folder>:<tag>` for every platform:
 * the image the project builds from that folder (multi-arch when built with
 * buildx; see README). A record that cannot be read is an error: the
 * catalog ships with the image and is tested.
 */
export async function readBuiltInCatalog(dir: string, images: RecordImages): Promise<Catalog> {
  const folders = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const functions: StoreFunction[] = [];
  for (const folder of folders) {
    const file = join(dir, folder, 'store.json');
    const source = await readFile(file, 'utf8').catch(() => undefined);
    if (source === undefined) continue;
    const parsed = recordSchema.safeParse(JSON.parse(source));
    if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const record = parsed.data;
    const image = `${images.repo}/${folder}:${images.tag}`;
    functions.push({ ...record, name: record.name ?? folder, images: record.images ?? Object.fromEntries(PLATFORMS.map((p) => [p, image])) });
  }
  return { version: '0.2.1', functions };
}

export interface ReadCatalog {
  catalog: Catalog;
  /** Entries left out because they were not store entries (a name missing, a label that is not text...). */
  skipped: number;
}

/**
 * A catalog someone else published, from its JSON text: `{version, functions: [...]}`
 * (or the store's older bare array). Entries that are not store entries are left
 * out and counted; anything that is not a catalog at all throws, saying what it is.
 */
export function parseCatalog(body: string, maxFunctions = 2000): ReadCatalog {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error('it is not JSON');
  }
  const list = Array.isArray(json) ? json : json && typeof json === 'object' && Array.isArray((json as { functions?: unknown }).functions) ? (json as { functions: unknown[] }).functions : undefined;
  if (!list) throw new Error('it is JSON but not a store catalog (no "functions" list)');
  if (list.length > maxFunctions) throw new Error(`it lists ${list.length} functions, more than the ${maxFunctions} the gateway reads`);
  const functions: StoreFunction[] = [];
  let skipped = 0;
  for (const item of list) {
    // The older format named one image for all platforms.
    const withImages = item && typeof item === 'object' && !('images' in item) && typeof (item as { image?: unknown }).image === 'string' ? { ...item, images: { x86_64: (item as { image: string }).image } } : item;
    const parsed = storeFunctionSchema.safeParse(withImages);
    if (parsed.success) functions.push(parsed.data);
    else skipped++;
  }
  if (functions.length === 0 && list.length > 0) throw new Error(`none of its ${list.length} entries is a store function`);
  const version = !Array.isArray(json) && typeof (json as { version?: unknown }).version === 'string' ? (json as { version: string }).version : '0.1.0';
  return { catalog: { version, functions }, skipped };
}

/** The store's name of an architecture as Node names it (process.arch). */
export function platformOf(nodeArch: string): Platform | undefined {
  return ({ x64: 'x86_64', arm64: 'arm64', arm: 'armhf' } as Record<string, Platform>)[nodeArch];
}
