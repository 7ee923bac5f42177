// Normalises the request path before routing and auth, so that no spelling
// of a protected path slips past the auth check: "//system/functions",
// "/function/../system/functions", "/%2e%2e/system" are resolved; an encoded
// "/" or "\" ("/system%2Ffunctions") or a NUL is refused outright.

export type NormalisedPath = { ok: true; path: string } | { ok: false; reason: string };

export function normalisePath(rawPath: string): NormalisedPath {
  if (/%2f|%5c|%00/i.test(rawPath) || rawPath.includes('\\') || rawPath.includes('\0')) {
    return { ok: false, reason: 'encoded "/", "\\" or NUL in the path' };
  }
  // Decode only the dot, so %2e%2e segments resolve like "..": the rest stays
  // encoded for the function, as the client sent it.
  const decoded = rawPath.replace(/%2e/gi, '.');
  const segments: string[] = [];
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  const trailingSlash = decoded.length > 1 && decoded.endsWith('/') && segments.length > 0;
  return { ok: true, path: '/' + segments.join('/') + (trailingSlash ? '/' : '') };
}

/** Paths that need credentials when BASIC_AUTH is on: /system/*, /ui and /ui/*. Case-insensitive on purpose. */
export function needsAuth(normalisedPath: string): boolean {
  const path = normalisedPath.toLowerCase();
  return path === '/system' || path.startsWith('/system/') || path === '/ui' || path.startsWith('/ui/');
}
