// Chooses the orchestrator the gateway drives (setting PROVIDER). A new
// provider is one folder beside ./swarm/ and one case here: no route,
// upstream or scaling code changes.
import type { Logger } from 'pino';
import type { Config } from '../settings.js';
import { dockerSocketPath, dropPrivileges } from './swarm/privileges.js';
import { SwarmProvider } from './swarm/provider.js';
import type { Provider } from './types.js';

/**
 * The provider, ready to use. Called after the gateway has read what only
 * root may read (its secrets): a provider may drop the process's privileges
 * to what it needs (Swarm: an unprivileged user in the engine socket's group).
 */
export function openProvider(config: Config, log: Logger): Provider {
  switch (config.PROVIDER) {
    case 'swarm':
      log.info(dropPrivileges({ uid: 1000, socketPath: dockerSocketPath(), fallbackGid: 1000 }), 'process identity');
      return new SwarmProvider({
        functionsNetwork: config.FUNCTIONS_NETWORK,
        upstream: config.UPSTREAM_MODE,
        functionEndpointMode: config.FUNCTION_ENDPOINT_MODE,
        functionPort: config.FUNCTION_PORT,
        defaultNamespace: config.DEFAULT_NAMESPACE,
        pollMs: config.WATCH_INTERVAL * 1000,
        log: log.child({ component: 'swarm' }),
      });
  }
}
