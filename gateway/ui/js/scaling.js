// @ts-check
// A function's scaling in words, from the limits the gateway computed and
// sends with it (`scaling` in GET /system/functions): the UI does not work
// them out from the labels itself, so it shows what the gateway does.

/**
 * @typedef {import('./types.js').FunctionStatus} FunctionStatus
 * @typedef {import('./types.js').Scaling} Scaling
 */

/**
 * "30 s", "5 min", "1 h 30 min"
 * @param {number} seconds
 */
export function formatDuration(seconds) {
  const s = Math.round(seconds);
  if (s < 120 && s % 60 !== 0) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/**
 * What the replicas are doing right now, in words.
 * @param {Pick<FunctionStatus, 'replicas' | 'availableReplicas'>} fn
 * @param {Pick<Scaling, 'max'>} scaling
 * @returns {{text: string, cls: string}}
 */
export function scalingState(fn, scaling) {
  const available = fn.availableReplicas ?? fn.replicas;
  if (fn.replicas === 0) return { text: 'Scaled to zero: the next request wakes it', cls: 'idle' };
  if (available < fn.replicas) return { text: `Starting replicas: ${available} of ${fn.replicas} ready`, cls: 'busy' };
  if (available > fn.replicas) return { text: `Stopping replicas: ${available} running, ${fn.replicas} wanted`, cls: 'busy' };
  if (fn.replicas >= scaling.max) return { text: `At the maximum (${scaling.max} replicas)`, cls: 'max' };
  return { text: 'Steady', cls: 'ok' };
}

/**
 * How autoscaling treats the function, in one paragraph.
 * @param {Scaling} scaling
 */
export function describeLimits(scaling) {
  const { min, max } = scaling;
  const range = min === max ? `at ${min} replica${min === 1 ? '' : 's'} (min = max: no autoscaling)` : `between ${min} and ${max} replicas`;
  let how;
  if (scaling.type === 'queue') {
    how = `Scales on its queue, one replica per ${scaling.target ?? '?'} pending message${scaling.target === 1 ? '' : 's'}, ${range}.`;
  } else if (!scaling.alerts) {
    how = `Alerts do not scale it (com.openfaas.scale.factor=0); it stays ${range} unless scaled by hand.`;
  } else {
    const step = scaling.stepMode === 'add' ? `adds ${scaling.step} replica${scaling.step === 1 ? '' : 's'}` : `steps to the next multiple of ${scaling.step}`;
    how = `Autoscaling on the request rate keeps it ${range}: each alert ${step}, and it returns to ${min} when the load stops.`;
  }
  const zero = scaling.zero ? ` Scales to zero after ${formatDuration(scaling.zeroDuration)} without calls.` : ' Scale to zero: off.';
  const manual = scaling.type === 'rate' && scaling.alerts ? ' A manual scale holds until the next alert.' : '';
  return `${how}${zero}${manual}`;
}
