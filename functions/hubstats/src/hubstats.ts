/**
 * How many images a Docker Hub user or organisation has pushed, from the Hub's
 * public API. There may be no internet where it runs: every failure (no DNS,
 * refused, no answer within the timeout, unexpected answer) becomes a clear
 * one-line error, well inside the watchdog's exec_timeout, never a hang.
 */
export interface HubConfig {
  baseUrl: string;
  timeoutMs: number;
}

export type HubResult = { ok: true; text: string } | { ok: false; error: string };

interface RepositoryPage {
  count: number;
  results: { name: string; pull_count?: number }[];
}

// Docker Hub namespaces: lowercase letters, digits and separators.
const NAMESPACE = /^[a-z0-9][a-z0-9._-]{1,254}$/;

export function hubConfigFromEnv(env: NodeJS.ProcessEnv): HubConfig {
  const seconds = Number(env.HUB_TIMEOUT ?? '4');
  return {
    baseUrl: (env.HUB_API_URL ?? 'https://hub.docker.com').replace(/\/$/, ''),
    timeoutMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 4000,
  };
}

function describeFailure(err: unknown, config: HubConfig): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer from Docker Hub (${config.baseUrl}) within ${config.timeoutMs / 1000} s`;
  }
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return `cannot reach Docker Hub (${config.baseUrl}): ${cause ?? message}`;
}

export async function hubstats(input: string, config: HubConfig): Promise<HubResult> {
  const user = input.trim().toLowerCase();
  if (!user) return { ok: false, error: 'send a Docker Hub user or organisation name in the body' };
  if (!NAMESPACE.test(user)) return { ok: false, error: `"${input.trim().slice(0, 80)}" is not a Docker Hub user name` };

  const url = `${config.baseUrl}/v2/repositories/${encodeURIComponent(user)}/?page_size=100`;
  let page: RepositoryPage;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(config.timeoutMs), headers: { accept: 'application/json' } });
    if (res.status === 404) return { ok: false, error: `Docker Hub knows no user or organisation named "${user}"` };
    if (!res.ok) return { ok: false, error: `Docker Hub answered ${res.status} ${res.statusText}` };
    page = (await res.json()) as RepositoryPage;
  } catch (err) {
    return { ok: false, error: describeFailure(err, config) };
  }
  if (typeof page.count !== 'number' || !Array.isArray(page.results)) {
    return { ok: false, error: 'Docker Hub answered something unexpected' };
  }
  const lines = [`The organisation or user ${user} has ${page.count} repositories on the Docker hub.`];
  for (const repo of page.results) lines.push(`- ${user}/${repo.name}${repo.pull_count === undefined ? '' : ` (${repo.pull_count} pulls)`}`);
  if (page.count > page.results.length) lines.push(`... and ${page.count - page.results.length} more`);
  return { ok: true, text: `${lines.join('\n')}\n` };
}
