// What `scripts/cluster.sh up` prints, and the names the cluster tests use.

/** Nodes of the test cluster: two managers (a gateway on each), the rest workers. */
export const CLUSTER_NODES = 3;
export const CLUSTER_MANAGERS = 2;
/** The stack deployed onto the cluster (its own name: never a user's). */
export const CLUSTER_STACK = 'clustertest';

export interface ClusterEnv {
  /** The first manager's engine (DOCKER_HOST). */
  dockerHost: string;
  /** The manager's address on the cluster's bridge (CLUSTER_ADDRESS). */
  address: string;
  /** Every node's engine, node-1 first (CLUSTER_NODE_HOSTS). */
  nodeHosts: string[];
}

/** Parses the `export NAME=value` lines of `scripts/cluster.sh up`. */
export function parseExports(text: string): ClusterEnv {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) values.set(match[1]!, match[2]!.replace(/^"(.*)"$/, '$1'));
  }
  const dockerHost = values.get('DOCKER_HOST');
  const address = values.get('CLUSTER_ADDRESS');
  const hosts = values.get('CLUSTER_NODE_HOSTS');
  if (!dockerHost || !address || !hosts) throw new Error(`scripts/cluster.sh up printed no DOCKER_HOST, CLUSTER_ADDRESS and CLUSTER_NODE_HOSTS:\n${text}`);
  return { dockerHost, address, nodeHosts: hosts.split(/\s+/).filter(Boolean) };
}
