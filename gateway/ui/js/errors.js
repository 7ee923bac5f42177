// @ts-check
// Maps the gateway's validation errors to the deploy form's fields. The
// gateway answers 400 with a text such as "invalid request: service: expected
// ...; image: expected ..." (the path before each colon names the field); JSON
// {message, field} is understood too.

/**
 * Form field keys: service, image, envProcess, network, envVars, labels, scaleMin, scaleMax, scaleZero, constraints, secrets, limits
 * @type {Record<string, string>}
 */
const SCALE_LABELS = {
  'com.openfaas.scale.min': 'scaleMin',
  'com.openfaas.scale.max': 'scaleMax',
  'com.faas.max_replicas': 'scaleMax',
  'com.openfaas.scale.zero': 'scaleZero',
};
const TOP = ['service', 'image', 'envProcess', 'network', 'envVars', 'labels', 'annotations', 'constraints', 'secrets', 'limits', 'requests'];

/**
 * The form field a path like "labels.com.openfaas.scale.min" or "envVars" belongs to, or undefined.
 * @param {unknown} path
 * @returns {string | undefined}
 */
export function fieldOfPath(path) {
  const clean = String(path).trim().replace(/^(body|spec)\./, '').replace(/\[(\d+)\]/g, '.$1');
  if (clean === 'name' || clean === 'functionName' || clean === 'serviceName') return 'service';
  for (const [label, field] of Object.entries(SCALE_LABELS)) {
    if (clean === `labels.${label}` || clean === `labels["${label}"]`) return field;
  }
  const head = clean.split('.')[0] ?? '';
  if (head === 'annotations') return 'labels';
  if (head === 'requests') return 'limits';
  return TOP.includes(head) ? head : undefined;
}

/**
 * @param {{status: number, message: string, details?: any}} error
 * @returns {{fields: Record<string, string>, general: string[]}}
 */
export function mapDeployError(error) {
  /** @type {Record<string, string>} */
  const fields = {};
  /** @type {string[]} */
  const general = [];
  /** @param {string | undefined} field @param {string} message */
  const put = (field, message) => {
    if (field) fields[field] = fields[field] ? `${fields[field]}; ${message}` : message;
    else general.push(message);
  };
  const details = error.details;
  if (details && typeof details === 'object' && typeof details.field === 'string') {
    put(fieldOfPath(details.field), String(details.message ?? error.message));
    return { fields, general };
  }
  if (details && typeof details === 'object' && Array.isArray(details.errors)) {
    for (const item of details.errors) put(fieldOfPath(item.field ?? item.path ?? ''), String(item.message ?? item));
    if (Object.keys(fields).length + general.length > 0) return { fields, general };
  }
  const text = String(error.message).replace(/^\s*invalid request:\s*/i, '');
  for (const part of text.split(/\n|;\s+/).map((p) => p.trim()).filter(Boolean)) {
    // "service: expected ..." or "labels.com.openfaas.scale.min: ..."
    const lead = /^([A-Za-z][\w.\-/"[\]]*)\s*:\s*(.*)$/s.exec(part);
    const field = lead ? fieldOfPath(lead[1]) : undefined;
    if (lead && field) {
      // "service: expected ..." under the Name field reads better without the path.
      put(field, lead[1] === field ? capitalise(lead[2] ?? '') : part);
      continue;
    }
    // Otherwise the first field name the text mentions, e.g. "a function named x already exists" has none.
    const mention = /\b(service|image|envProcess|fprocess|network|envVars|labels|constraints|secrets|limits)\b/.exec(part);
    put(mention ? fieldOfPath(mention[1] === 'fprocess' ? 'envProcess' : mention[1]) : undefined, part);
  }
  if (error.status === 409 && !fields.service) {
    fields.service = general.shift() ?? 'A function with this name already exists.';
  }
  return { fields, general };
}

/** @param {string} text */
function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
