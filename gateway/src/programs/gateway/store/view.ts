// What the UI's store page reads (GET /system/store): the catalog to show,
// where it came from, and why another one could not be shown.
import { z } from 'zod';
import { answerRegistry } from '../api/answers.js';
import { catalogSchema, PLATFORMS } from './catalog.js';

/** The stored choice that means "the built-in catalog, whatever STORE_URL says". */
export const BUILT_IN = 'built-in';
/** Where every client (faas-cli store list --url) reads the built-in catalog, without credentials. */
export const BUILT_IN_PATH = '/store/functions.json';

export const storeViewSchema = z.object({
  catalog: catalogSchema,
  source: z.enum(['built-in', 'remote']).describe('which catalog `catalog` is'),
  url: z.string().nullable().describe('the remote catalog in use (or that failed); null when the built-in one is chosen'),
  error: z.string().nullable().describe('why the remote catalog is not shown (the built-in one is shown instead)'),
  skipped: z.number().int().describe('entries of the remote catalog left out: they were not store entries'),
  platform: z.enum(PLATFORMS).nullable().describe("this gateway's architecture, as the store names it: the image deployed from an entry"),
  builtInPath: z.literal(BUILT_IN_PATH),
  setting: z.string().nullable().describe('STORE_URL'),
  chosen: z.string().nullable().describe('what an admin chose (a URL, or "built-in"); it overrides STORE_URL'),
});
answerRegistry.add(storeViewSchema, { id: 'StoreView', description: 'The catalog the store page shows, and where it came from.' });

/** PUT /system/store: a URL, "" for the built-in catalog, null to follow STORE_URL again. */
export const storeChoiceSchema = z.strictObject({
  url: z.string().max(2000).nullable().describe('a catalog URL (http or https); "" for the built-in catalog; null to forget the choice (STORE_URL applies)'),
});

export type StoreView = z.output<typeof storeViewSchema>;
