// What the gateway's admin allows a function deployed through the API to
// do, and the defaults it gets: a read-only root with a bounded tmpfs /tmp,
// a memory limit, a process limit, no Linux capability, and never uid 0
// unless the admin allows it and the function asks. The settings are in
// config.ts (FUNCTION_*); a deployment beyond them is a 400 naming the setting.
import { LABEL } from '../../core/labels.js';
import { memoryBytes } from './api/quantities.js';
import type { Config } from './settings.js';
import { ValidationError } from './validation.js';
import type { FunctionDeployment } from './provider/types.js';

export type ConfinementSettings = Pick<
  Config,
  | 'FUNCTION_READ_ONLY_ROOT'
  | 'FUNCTION_ALLOW_WRITABLE_ROOT'
  | 'FUNCTION_MEMORY_DEFAULT'
  | 'FUNCTION_MEMORY_MAX'
  | 'FUNCTION_PIDS_LIMIT'
  | 'FUNCTION_TMP_SIZE'
  | 'FUNCTION_USER'
  | 'FUNCTION_ALLOW_ROOT'
>;

export function confine(deployment: FunctionDeployment, settings: ConfinementSettings): FunctionDeployment {
  const readOnly = deployment.readOnlyRootFilesystem ?? settings.FUNCTION_READ_ONLY_ROOT;
  if (!readOnly && !settings.FUNCTION_ALLOW_WRITABLE_ROOT) {
    throw new ValidationError('invalid request: readOnlyRootFilesystem: functions have a read-only root here (the admin setting FUNCTION_ALLOW_WRITABLE_ROOT is off); write to /tmp');
  }

  const memory = deployment.limits?.memory ?? settings.FUNCTION_MEMORY_DEFAULT;
  const max = memoryBytes(settings.FUNCTION_MEMORY_MAX)!;
  if (memoryBytes(memory)! > max) {
    throw new ValidationError(`invalid request: limits.memory: ${memory} is above the most a function may have here (FUNCTION_MEMORY_MAX=${settings.FUNCTION_MEMORY_MAX})`);
  }
  const requested = deployment.requests?.memory;
  if (requested && memoryBytes(requested)! > memoryBytes(memory)!) {
    throw new ValidationError(`invalid request: requests.memory: ${requested} is above the limit ${memory}`);
  }

  const wantsImageUser = deployment.labels?.[LABEL.runAsImageUser]?.trim().toLowerCase() === 'true';
  if (wantsImageUser && !settings.FUNCTION_ALLOW_ROOT) {
    throw new ValidationError(`invalid request: labels.${LABEL.runAsImageUser}: functions run as user ${settings.FUNCTION_USER} here (the admin setting FUNCTION_ALLOW_ROOT is off)`);
  }

  return {
    ...deployment,
    readOnlyRootFilesystem: readOnly,
    limits: { ...deployment.limits, memory },
    confinement: {
      ...(wantsImageUser ? {} : { user: settings.FUNCTION_USER }),
      dropCapabilities: true,
      pidsLimit: settings.FUNCTION_PIDS_LIMIT,
      tmpBytes: memoryBytes(settings.FUNCTION_TMP_SIZE)!,
    },
  };
}
