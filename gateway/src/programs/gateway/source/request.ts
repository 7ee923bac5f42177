// What the "New function" page sends to POST /system/source.
import { z } from 'zod';

/** A file the page edits: a plain name in the handler folder. */
const fileName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/, 'expected a file name (letters, digits, . _ -)');

/** The sum of the files' sizes a source may have (kept whole in one NATS message). */
export const SOURCE_LIMIT = 256 * 1024;

export const sourceRequestSchema = z
  .strictObject({
    service: z.string().min(1),
    namespace: z.string().optional(),
    template: z.string().min(1),
    files: z.record(fileName, z.string()).refine((files) => Object.keys(files).length > 0 && Object.keys(files).length <= 20, 'expected 1 to 20 files'),
    envVars: z.record(z.string(), z.string()).optional(),
    secrets: z.array(z.string()).optional(),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .refine((body) => Object.values(body.files).reduce((sum, text) => sum + Buffer.byteLength(text), 0) <= SOURCE_LIMIT, {
    message: `the files hold more than ${SOURCE_LIMIT / 1024} KiB`,
    path: ['files'],
  });
export type SourceRequest = z.infer<typeof sourceRequestSchema>;

/** The annotation that marks a function written in the browser (its page links to the source). */
export const SOURCE_ANNOTATION = 'com.swarmfaas.source';

/** <prefix><name>-<function>[.<namespace>]:<build>; the build is a time, so each deploy rolls onto a new image. */
export function sourceImage(prefix: string, name: string, service: string, namespace: string, defaultNamespace: string, now = Date.now()): string {
  const who = namespace === defaultNamespace ? service : `${service}.${namespace}`;
  return `${prefix}${name}-${who.toLowerCase()}:b${now.toString(36)}`;
}
