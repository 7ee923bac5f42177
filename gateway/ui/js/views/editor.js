// @ts-check
// #/new and #/edit/<name> : write a function in the browser. Choose a
// template, edit its handler and dependency file in CodeMirror 6 (bundled by
// the gateway's build into /ui/vendor/codemirror.js, loaded only by this
// page), set environment, secrets and scaling, and Deploy: the gateway builds
// the source with the stack's builder, the log streams here as it comes, and
// the function is deployed (or rolled onto the new image). A failed build
// deploys nothing: its failing lines are listed and marked in the code.
// The source is kept by the stack (GET /system/source/<name>), so any browser
// can open it again here.
import { h, uid, announce, toast } from '../dom.js';
import { refresh } from '../monitor.js';
import { fnHref } from '../routes.js';
import { buildSource, failingLines, keptSource, listTemplates } from '../source-api.js';
import { field, pairsEditor } from './deploy.js';

/** A variable, so the type checker does not look for the bundle (made by npm run build). */
const CODEMIRROR_URL = '/ui/vendor/codemirror.js';

/** The file shown first: the handler. */
const FIRST = ['handler.js', 'handler.py', 'handler.sh', 'Dockerfile'];

/**
 * @param {any} cm the CodeMirror bundle
 * @param {string} file
 */
function languageOf(cm, file) {
  if (file.endsWith('.js') || file.endsWith('.mjs')) return [cm.javascript()];
  if (file.endsWith('.py')) return [cm.python()];
  if (file.endsWith('.json')) return [cm.json()];
  if (file.endsWith('.sh')) return [cm.StreamLanguage.define(cm.shell)];
  if (file === 'Dockerfile') return [cm.StreamLanguage.define(cm.dockerFile)];
  return [];
}

/** @param {Record<string, string>} files */
function orderOf(files) {
  return Object.keys(files).sort((a, b) => {
    const rank = (/** @type {string} */ f) => (FIRST.includes(f) ? 0 : 1);
    return rank(a) - rank(b) || a.localeCompare(b);
  });
}

/**
 * @param {string} [name] a function whose kept source is opened
 * @returns {Promise<import('../types.js').View>}
 */
export async function editorPage(name) {
  const url = CODEMIRROR_URL;
  const [cm, answer, kept] = await Promise.all([import(url), listTemplates(), name ? keptSource(name) : Promise.resolve(undefined)]);
  const titleText = name ? `Edit ${name}` : 'New function';
  const title = h('h1', { id: 'editor-title', tabindex: '-1' }, titleText);
  const crumbs = h('p', { class: 'crumbs' }, name ? h('a', { href: fnHref(name) }, `← ${name}`) : h('a', { href: '#/' }, '← All functions'));
  if (name && !kept) {
    const el = h('section', { class: 'editor-page', 'aria-labelledby': 'editor-title' }, crumbs, title, h('p', { class: 'error', role: 'alert' }, `No source is kept for ${name}: it was not written on this page (or its source was lost).`));
    return { el, dispose() {} };
  }
  if (answer.templates.length === 0) {
    const el = h('section', { class: 'editor-page', 'aria-labelledby': 'editor-title' }, crumbs, title, h('p', { class: 'error', role: 'alert' }, 'The gateway has no templates (TEMPLATE_DIR).'));
    return { el, dispose() {} };
  }
  const templates = new Map(answer.templates.map((t) => [t.language, t]));

  // The form -------------------------------------------------------------------------------------
  const service = field('service', 'Name', h('input', { required: true, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', value: kept?.service ?? '' }), 'Callers invoke it at /function/<name>.');
  if (kept) /** @type {HTMLInputElement} */ (service.control).readOnly = true;
  const templateSelect = /** @type {HTMLSelectElement} */ (h('select', { id: uid('template'), disabled: Boolean(kept) }, [...templates.keys()].map((t) => h('option', { value: t }, t))));
  const startWith = kept?.template && templates.has(kept.template) ? kept.template : templates.has('node') ? 'node' : /** @type {string} */ ([...templates.keys()][0]);
  templateSelect.value = startWith;
  const labels = { ...(kept?.labels ?? {}) };
  const scaleMinValue = labels['com.openfaas.scale.min'] ?? '';
  const scaleMaxValue = labels['com.openfaas.scale.max'] ?? '';
  delete labels['com.openfaas.scale.min'];
  delete labels['com.openfaas.scale.max'];
  const envVars = pairsEditor('envVars', 'Environment variables', 'Variable', 'Add a variable', kept?.envVars ?? {});
  const labelRows = pairsEditor('labels', 'Labels', 'Label', 'Add a label', labels);
  const scaleMin = field('scaleMin', 'Minimum replicas', h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', placeholder: 'gateway default', value: scaleMinValue }));
  const scaleMax = field('scaleMax', 'Maximum replicas', h('input', { type: 'number', min: 1, step: 1, inputmode: 'numeric', placeholder: 'gateway default', value: scaleMaxValue }));
  const secrets = field('secrets', 'Secrets', h('input', { autocomplete: 'off', spellcheck: 'false', value: (kept?.secrets ?? []).join(', ') }), 'Names of secrets (the Secrets page), separated by commas.');
  const welcome = h('p', { class: 'hint' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'deploy-source' }, kept ? 'Deploy the new version' : 'Deploy');
  const problems = h('div', { class: 'form-errors', role: 'alert', hidden: true, tabindex: '-1', 'data-testid': 'build-errors' });
  const log = h('pre', { class: 'build-log mono', 'data-testid': 'build-log', 'aria-label': 'Build log', tabindex: '0', hidden: true });
  const status = h('p', { class: 'muted', 'data-testid': 'build-status', 'aria-live': 'polite' });
  if (!answer.builder) status.textContent = 'This stack has no builder: functions cannot be built here (deploy_stack.sh brings one unless --no-builder).';
  else if (!answer.durable) status.textContent = 'The gateway keeps sources in its memory only (no NATS): a restart forgets them.';

  // The code: one editor per file, the chosen one shown --------------------------------------------
  // (One view per file rather than one view swapping states: CodeMirror
  // rebuilding its DOM for a new state clones nodes with inline styles, which
  // the Content-Security-Policy reports.)
  /** @type {Map<string, {view: any, box: HTMLElement}>} */
  const editors = new Map();
  /** @type {Record<string, Array<{from: number, to: number, severity: string, message: string}>>} */
  let diagnostics = {};
  let currentFile = '';
  const tabs = h('div', { class: 'file-tabs', role: 'tablist', 'aria-label': 'Files' });
  const host = h('div', { class: 'code', 'data-testid': 'code', role: 'tabpanel' });
  // In a shadow root: CodeMirror then styles itself with constructed style
  // sheets, which the UI's Content-Security-Policy (style-src 'self') allows,
  // where in the document it would add <style> elements, which it blocks.
  const shadow = host.attachShadow({ mode: 'open' });
  const theme = cm.EditorView.theme({
    '&': { height: '360px', fontSize: '14px', backgroundColor: '#fff', color: '#1f2328' },
    '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' },
    '&.cm-focused': { outline: '2px solid #3b82f6' },
  });
  /** The editor of a file. @param {string} file */
  const editorOf = (file) => /** @type {{view: any, box: HTMLElement}} */ (editors.get(file));

  /** @param {string} file */
  function show(file) {
    currentFile = file;
    for (const [name, editor] of editors) editor.box.hidden = name !== file;
    for (const tab of tabs.querySelectorAll('button')) tab.setAttribute('aria-selected', String(tab.dataset.file === file));
  }

  /** Marks the failing lines; only the editors whose marks change are touched (see above). @param {typeof diagnostics} next */
  function markFailures(next) {
    for (const [file, editor] of editors) {
      if (!diagnostics[file]?.length && !next[file]?.length) continue;
      editor.view.dispatch(cm.setDiagnostics(editor.view.state, next[file] ?? []));
    }
    diagnostics = next;
  }

  /** @param {Record<string, string>} files */
  function load(files) {
    for (const editor of editors.values()) editor.view.destroy();
    editors.clear();
    shadow.replaceChildren();
    diagnostics = {};
    const order = orderOf(files);
    for (const file of order) {
      const box = document.createElement('div');
      box.hidden = true;
      shadow.append(box);
      const view = new cm.EditorView({
        parent: box,
        root: shadow,
        state: cm.EditorState.create({ doc: files[file] ?? '', extensions: [cm.basicSetup, cm.lintGutter(), theme, ...languageOf(cm, file)] }),
      });
      editors.set(file, { view, box });
    }
    tabs.replaceChildren(...order.map((file) => h('button', { type: 'button', role: 'tab', class: 'small', 'data-file': file, onclick: () => show(file) }, file)));
    show(/** @type {string} */ (order[0]));
  }

  /** @returns {Record<string, string>} */
  function files() {
    /** @type {Record<string, string>} */
    const out = {};
    for (const [file, editor] of editors) out[file] = editor.view.state.doc.toString();
    return out;
  }

  function chooseTemplate() {
    const template = templates.get(templateSelect.value);
    if (!template) return;
    welcome.textContent = template.welcome;
    load(kept && kept.template === template.language ? kept.files : template.files);
  }
  templateSelect.addEventListener('change', chooseTemplate);
  chooseTemplate();

  // Deploy ------------------------------------------------------------------------------------------
  /** @param {string[]} lines */
  function appendLog(lines) {
    if (lines.length === 0) return;
    log.hidden = false;
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(`${lines.join('\n')}\n`);
    if (atEnd) log.scrollTop = log.scrollHeight;
  }

  /** @param {string[]} allLog @param {string} error */
  function showFailure(allLog, error) {
    const found = failingLines(allLog).filter((f) => editors.has(f.file));
    /** @type {typeof diagnostics} */
    const next = {};
    for (const f of found) {
      const doc = editorOf(f.file).view.state.doc;
      const line = doc.line(Math.min(Math.max(f.line, 1), doc.lines));
      (next[f.file] ??= []).push({ from: line.from, to: line.to, severity: 'error', message: f.text });
    }
    problems.replaceChildren(
      h('p', {}, `The build failed: ${error}. Nothing was deployed.`),
      ...(found.length
        ? [h('ul', {}, found.map((f) => h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => { show(f.file); const { view } = editorOf(f.file); const pos = view.state.doc.line(Math.min(f.line, view.state.doc.lines)).from; view.dispatch({ selection: { anchor: pos }, scrollIntoView: true }); view.focus(); } }, `${f.file} line ${f.line}`), `: ${f.text}`)))]
        : []),
    );
    problems.hidden = false;
    markFailures(next);
    show(found[0]?.file ?? currentFile);
    problems.focus();
    announce(`Build failed: ${error}`);
  }

  /** @param {SubmitEvent} event */
  async function onsubmit(event) {
    event.preventDefault();
    problems.hidden = true;
    markFailures({});
    const labelMap = { ...labelRows.values() };
    const min = /** @type {HTMLInputElement} */ (scaleMin.control).value.trim();
    const max = /** @type {HTMLInputElement} */ (scaleMax.control).value.trim();
    if (min) labelMap['com.openfaas.scale.min'] = min;
    if (max) labelMap['com.openfaas.scale.max'] = max;
    const secretList = secrets.control.value.split(',').map((c) => c.trim()).filter(Boolean);
    const body = { service: service.control.value.trim(), template: templateSelect.value, files: files(), envVars: envVars.values(), labels: labelMap, ...(secretList.length ? { secrets: secretList } : {}) };
    submit.disabled = true;
    submit.textContent = 'Building…';
    log.replaceChildren();
    status.textContent = 'Building the image…';
    /** @type {string[]} */
    const allLog = [];
    try {
      const last = await buildSource(body, (line) => {
        const lines = line.log ?? [];
        allLog.push(...lines);
        appendLog(lines);
        if (line.built) status.textContent = 'Built; deploying…';
      });
      if (last.status === 'deployed') {
        status.textContent = `Deployed ${last.image}.`;
        toast(last.updated ? `${body.service}: rolling onto the new image.` : `Deployed ${body.service}; its replicas are starting.`);
        await refresh();
        location.hash = fnHref(body.service);
        return;
      }
      status.textContent = 'The build failed.';
      showFailure(allLog, last.error ?? 'unknown error');
    } catch (err) {
      status.textContent = '';
      problems.replaceChildren(h('p', {}, err instanceof Error ? err.message : String(err)));
      problems.hidden = false;
      problems.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = kept ? 'Deploy the new version' : 'Deploy';
    }
  }

  const templateField = h('div', { class: 'field' }, h('label', { for: templateSelect.id }, 'Template'), templateSelect, welcome);
  const form = h(
    'form',
    { class: 'editor-form', onsubmit, novalidate: true, 'aria-labelledby': 'editor-title' },
    problems,
    h('div', { class: 'grid2' }, service.wrap, templateField),
    h('div', { class: 'field' }, tabs, host),
    h('details', { class: 'more', open: Boolean(kept && (Object.keys(kept.envVars ?? {}).length || Object.keys(labels).length || kept.secrets?.length)) }, h('summary', {}, 'Environment, secrets and scaling'), h('div', { class: 'grid2' }, scaleMin.wrap, scaleMax.wrap), envVars.wrap, labelRows.wrap, secrets.wrap),
    h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: name ? fnHref(name) : '#/' }, 'Cancel')),
    status,
    log,
  );
  const el = h('section', { class: 'editor-page', 'aria-labelledby': 'editor-title' }, crumbs, title, h('div', { class: 'card' }, form));
  return {
    el,
    dispose() {
      for (const editor of editors.values()) editor.view.destroy();
    },
  };
}
