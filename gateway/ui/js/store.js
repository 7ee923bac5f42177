// @ts-check
// The store page's pure parts: which entries match the filter, what a
// one-click deploy sends for an entry (the catalog's settings, the image for
// this gateway's architecture), and which links may be shown as links.

/**
 * @typedef {import('./types.js').StoreFunction} StoreFunction
 * @typedef {import('./types.js').StoreView} StoreView
 */

/**
 * @param {StoreFunction} entry
 * @param {string} query
 */
export function matches(entry, query) {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return [entry.name, entry.title, entry.description, entry.author, ...Object.keys(entry.labels ?? {})].some((text) => typeof text === 'string' && text.toLowerCase().includes(q));
}

/**
 * What POST /system/functions gets for an entry, or why it cannot be deployed here.
 * The catalog's network is not passed on: the stack's functions network applies.
 * @param {StoreFunction} entry
 * @param {StoreView['platform']} platform
 * @param {string} [name] the name to deploy it as (default: the catalog's)
 * @returns {{ok: true, image: string, spec: Record<string, unknown>} | {ok: false, reason: string}}
 */
export function deploymentOf(entry, platform, name = entry.name) {
  const image = platform ? entry.images?.[platform] : undefined;
  if (!image) {
    const has = Object.keys(entry.images ?? {});
    return { ok: false, reason: `Not deployable here: no image for ${platform ?? 'this architecture'}${has.length > 0 ? ` (only ${has.join(', ')})` : ''}.` };
  }
  return {
    ok: true,
    image,
    spec: {
      service: name.trim() || entry.name,
      image,
      ...(entry.fprocess ? { envProcess: entry.fprocess } : {}),
      ...(entry.environment ? { envVars: entry.environment } : {}),
      ...(entry.labels ? { labels: entry.labels } : {}),
      ...(entry.annotations ? { annotations: entry.annotations } : {}),
      ...(entry.readOnlyRootFilesystem !== undefined ? { readOnlyRootFilesystem: entry.readOnlyRootFilesystem } : {}),
    },
  };
}

/**
 * A catalog's link, when it is an http(s) URL; anything else (javascript:, data:) is shown as text only.
 * @param {string | undefined} text
 * @returns {string | null}
 */
export function safeLink(text) {
  if (!text) return null;
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
