import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Vitest's order, except that the cluster's destructive tests (a node lost, a node drained) run last. */
class DestructiveLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (f: TestSpecification): boolean => f.moduleId.includes('test/cluster/node-failures');
    return [...sorted.filter((f) => !last(f)), ...sorted.filter(last)];
  }
}

export default defineConfig({
  test: {
    // One stack serves every e2e suite; files run one after another so load
    // tests do not skew each other on two cores.
    fileParallelism: false,
    sequence: { sequencer: DestructiveLast },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/test/unit/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/setup/global.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
      {
        // A 3-node Swarm of real engines on this machine (scripts/cluster.sh),
        // the stack deployed onto it; removed at the end (E2E_KEEP_CLUSTER=1 keeps it).
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: ['test/cluster/setup/global.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
