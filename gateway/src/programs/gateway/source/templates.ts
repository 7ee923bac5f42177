// The function templates the "New function" page starts from, read from
// TEMPLATE_DIR (the repository's template/ folder, copied into the gateway's
// image): template/<language>/{Dockerfile, template.yml, function/...}.
// A build context is made as faas-cli build makes one: the template's files
// with the user's handler folder as function/; for the dockerfile template,
// the handler folder is the whole context.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TarEntry } from './tar.js';

export interface Template {
  language: string;
  /** template.yml's fprocess, if any (modules and Dockerfiles set their own). */
  fprocess?: string;
  welcome: string;
  /** template.yml's openapi: the path its sample handler serves its OpenAPI document at (annotated com.openfaas.openapi). */
  openapi?: string;
  /** The files a new function starts from (function/), by path; the ones the page edits. */
  files: Record<string, string>;
  /** Every file of the template, by path relative to template/<language>/, with its mode. */
  all: Map<string, { content: Buffer; mode: number }>;
}

/** The files the page shows besides the handler's: package-lock.json is made again when package.json changes. */
const HIDDEN = new Set(['package-lock.json']);

/** A file's mode in the build context: scripts the image runs are executable (the page cannot set modes). */
const modeOf = (path: string): number => (path.endsWith('.sh') || path.endsWith('.py') ? 0o755 : 0o644);

async function walk(root: string, dir = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await walk(root, path)));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

/** A YAML scalar of template.yml's top level (no YAML library for two keys). */
function topLevel(yaml: string, key: string): string | undefined {
  const line = new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(yaml);
  if (!line?.[1] || line[1].startsWith('|')) {
    if (!line) return undefined;
    // a block scalar: its indented lines
    const after = yaml.slice(line.index + line[0].length + 1).split('\n');
    const body: string[] = [];
    for (const l of after) {
      if (l.trim() !== '' && !/^\s/.test(l)) break;
      body.push(l.trim());
    }
    return body.join('\n').trim();
  }
  return line[1].trim().replace(/^["']|["']$/g, '');
}

export async function readTemplates(dir: string): Promise<Map<string, Template>> {
  const templates = new Map<string, Template>();
  if (!dir) return templates;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const root = join(dir, entry.name);
    const all = new Map<string, { content: Buffer; mode: number }>();
    for (const path of await walk(root)) {
      all.set(path, { content: await readFile(join(root, path)), mode: modeOf(path) });
    }
    const yml = all.get('template.yml')?.content.toString('utf8') ?? '';
    const files: Record<string, string> = {};
    for (const [path, file] of all) {
      if (path.startsWith('function/') && !HIDDEN.has(path.slice('function/'.length))) files[path.slice('function/'.length)] = file.content.toString('utf8');
    }
    const fprocess = topLevel(yml, 'fprocess');
    const openapi = topLevel(yml, 'openapi');
    templates.set(entry.name, {
      language: entry.name,
      welcome: topLevel(yml, 'welcome_message') ?? '',
      files,
      all,
      ...(fprocess ? { fprocess } : {}),
      ...(openapi?.startsWith('/') ? { openapi } : {}),
    });
  }
  return templates;
}

/**
 * The context/ entries of a build: the template with the user's files as its
 * function/ folder. The template's package-lock.json is kept only while
 * package.json is the template's own (else the build runs npm install).
 */
export function contextOf(template: Template, files: Record<string, string>): TarEntry[] {
  if (template.language === 'dockerfile') {
    return Object.entries(files).map(([path, content]) => ({ path: `context/${path}`, content, mode: modeOf(path) }));
  }
  const entries: TarEntry[] = [];
  const templatePackage = template.all.get('function/package.json')?.content.toString('utf8');
  for (const [path, file] of template.all) {
    if (path.startsWith('function/')) {
      const name = path.slice('function/'.length);
      if (name === 'package-lock.json' && files['package.json'] === templatePackage) entries.push({ path: `context/${path}`, content: file.content, mode: file.mode });
      continue;
    }
    entries.push({ path: `context/${path}`, content: file.content, mode: file.mode });
  }
  for (const [path, content] of Object.entries(files)) entries.push({ path: `context/function/${path}`, content, mode: modeOf(path) });
  return entries;
}
