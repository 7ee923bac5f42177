// CPU and memory amounts as callers write them, in both dialects the API
// meets: Kubernetes quantities (what OpenFaaS documents: "100m" CPU,
// "128Mi", "1G", "512M") and Docker's sizes (what this gateway took first:
// "0.5" CPUs, "128m", "1g", "512k", "64mb"). Pure functions.
//
// Memory suffixes: Ki Mi Gi Ti Pi are binary (Kubernetes); upper case M, G,
// T, P are Kubernetes' decimal units (1G = 10^9 bytes); lower case k, m, g
// (with an optional "b", or upper case KB MB GB) keep Docker's binary meaning,
// so an existing "128m" still means 128 MiB; K is binary too (Docker's "512K").

const MEMORY = /^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|KB|MB|GB|K|M|G|T|P|[kmg]b?|b)?$/;
const MEMORY_FACTOR: Record<string, number> = {
  '': 1,
  b: 1,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  K: 1024,
  KB: 1024,
  M: 1e6,
  MB: 1024 ** 2,
  G: 1e9,
  GB: 1024 ** 3,
  T: 1e12,
  P: 1e15,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
};

/** Bytes, or undefined when the text is no memory amount. */
export function memoryBytes(text: string): number | undefined {
  const match = MEMORY.exec(text.trim());
  if (!match) return undefined;
  const factor = MEMORY_FACTOR[match[2] ?? ''];
  if (factor === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

const CPU = /^(\d+(?:\.\d+)?)(m)?$/;

/** Billionths of a CPU ("100m" -> 1e8, "0.5" -> 5e8, "2" -> 2e9), or undefined when the text is no CPU amount. */
export function nanoCpus(text: string): number | undefined {
  const match = CPU.exec(text.trim());
  if (!match) return undefined;
  const cpus = Number(match[1]) / (match[2] ? 1000 : 1);
  const nano = Math.round(cpus * 1e9);
  return Number.isSafeInteger(nano) ? nano : undefined;
}

/** Bytes as the shortest exact Kubernetes quantity: 134217728 -> "128Mi", 1000 -> "1000". */
export function formatMemory(bytes: number): string {
  for (const [suffix, factor] of [
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${suffix}`;
  }
  return String(bytes);
}

/** Billionths of a CPU as a Kubernetes quantity: 1e8 -> "100m", 2e9 -> "2". */
export function formatCpu(nano: number): string {
  if (nano % 1e9 === 0) return String(nano / 1e9);
  if (nano % 1e6 === 0) return `${nano / 1e6}m`;
  return String(nano / 1e9);
}
