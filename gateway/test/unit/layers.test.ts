// docs/ARCHITECTURE.md's "What may depend on what", checked against the
// imports of every source file: a change that crosses a line fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every import of every file: [file, what it imports] with relative imports resolved to src-relative paths. */
const imports = files(src).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  const from = relative(src, file);
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g)].map(([, spec]) => {
    const target = spec!.startsWith('.') ? relative(src, resolve(dirname(file), spec!)) : spec!;
    return { from, target };
  });
});

const layer = (path: string): string => {
  const [top, program] = path.split('/');
  return top === 'programs' ? `programs/${program}` : top!;
};

describe('what may depend on what', () => {
  it('core imports nothing of queue, triggers or the programs', () => {
    expect(imports.filter((i) => layer(i.from) === 'core' && /^(queue|triggers|programs)\//.test(i.target))).toEqual([]);
  });

  it('queue imports only core (of the project)', () => {
    expect(imports.filter((i) => layer(i.from) === 'queue' && /^(triggers|programs)\//.test(i.target))).toEqual([]);
  });

  it('triggers import only core and queue', () => {
    expect(imports.filter((i) => layer(i.from) === 'triggers' && i.target.startsWith('programs/'))).toEqual([]);
  });

  it('no program imports another, and the gateway runs no trigger', () => {
    const crossing = imports.filter((i) => layer(i.from).startsWith('programs/') && i.target.startsWith('programs/') && layer(i.target) !== layer(i.from));
    expect(crossing).toEqual([]);
    expect(imports.filter((i) => layer(i.from) === 'programs/gateway' && i.target.startsWith('triggers/'))).toEqual([]);
  });

  it('rabbitmq imports nothing of the project but core, and only it holds amqplib', () => {
    expect(imports.filter((i) => layer(i.from) === 'rabbitmq' && /^(queue|triggers|programs)\//.test(i.target))).toEqual([]);
    expect(imports.filter((i) => layer(i.from) === 'core' && i.target.startsWith('rabbitmq/'))).toEqual([]);
    expect(imports.filter((i) => i.target === 'amqplib' && layer(i.from) !== 'rabbitmq').map((i) => i.from)).toEqual([]);
    expect(imports.some((i) => i.target === 'amqplib')).toBe(true);
  });

  it('only queue/ holds NATS clients, and only the Swarm provider holds dockerode', () => {
    expect(imports.filter((i) => i.target.startsWith('@nats-io/') && layer(i.from) !== 'queue').map((i) => i.from)).toEqual([]);
    expect(imports.filter((i) => i.target === 'dockerode' && !i.from.startsWith('programs/gateway/provider/swarm/')).map((i) => i.from)).toEqual([]);
    // The checks above see imports at all.
    expect(imports.some((i) => i.target.startsWith('@nats-io/'))).toBe(true);
    expect(imports.some((i) => i.target === 'dockerode')).toBe(true);
  });
});
