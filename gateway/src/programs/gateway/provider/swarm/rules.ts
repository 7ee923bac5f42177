// Swarm's naming and syntax rules, which request validation applies through
// the Provider's `rules`.
import type { ProviderRules } from '../types.js';

export const swarmRules: ProviderRules = {
  // A new function's service name is its name (in the default namespace):
  // one lower-case DNS label, since functions reach each other by service
  // name and DNS is case-blind ("Echo" and "echo" would collide);
  // underscores are allowed for stack prefixes (func_echoit).
  newFunctionName: {
    pattern: /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/,
    message: 'expected a name of lower-case letters, digits, "-" and "_" (at most 63, starting and ending with a letter or digit)',
  },
  // Existing services (from a stack named in upper case) may still be named to update or remove them.
  functionName: {
    pattern: /^[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$/,
    message: 'expected a function name',
  },
  reservedNames: new Set(['gateway', 'prometheus', 'alertmanager', 'nats', 'queue-worker', 'connector', 'registry', 'registry-mirror', 'tasks']),
  constraint: {
    pattern: /^\s*[A-Za-z0-9_.\-[\]]+\s*(==|!=)\s*\S.*$/,
    message: 'expected "<attribute> == <value>" or "<attribute> != <value>"',
  },
};
