/**
 * vitest's sequencer, with one change for runs without vitest's cache (a fresh clone, CI): the
 * files known to run longest start first. vitest orders such files by size, largest first, and
 * the adversarial catalogue's files are a few lines each (the cases live in cases.ts), so they
 * started last and one of them alone made the run's tail (issue #12: resources.test.ts started at
 * 410 s of 498 s and ran 86 s). Once the cache knows every file's duration, vitest's own order (longest
 * first) applies and this list is not used.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Longest files of a run (measured, longest first); a rough order is enough. */
export const LONGEST_FILES: readonly string[] = [
  // Wall seconds alone in the quiet-machine run of 425e11e (node 24, issue #12's CPU log):
  // 58, 40, 37, 30, 23, 22, 22, 22, 21, 21, 20, 17, 17 (shared), 16, 15, 14, 13, 13, 13, 12, 12...;
  // later files at their first measure (catastrophe-terminate ~16, queued-neighbours ~14 at load ~20).
  'test/package/packed-install.test.ts',
  'test/adversarial/loops.test.ts',
  'test/conformance/bad-input.test.ts',
  'test/conformance/snapstart.test.ts',
  'test/cluster/events.test.ts',
  'test/engines/remote/host-call-tenants.test.ts',
  'test/dispatch/memory-retention.test.ts',
  'test/engines/wasm/js-entry.test.ts',
  'test/engines/remote/deadline-containment.test.ts',
  'test/engines/remote/background-servers.test.ts',
  'test/engines/v8/catastrophe-degrade.test.ts',
  'test/engines/v8/catastrophe-terminate.test.ts',
  'test/engines/process/catastrophe-recovery.test.ts',
  'test/invoke/timeout-fidelity.test.ts',
  'test/adversarial/resources.test.ts',
  'test/engines/process/process-isolation.test.ts',
  'test/engines/remote/queued-neighbours.test.ts',
  'test/examples/aws-cli.test.ts',
  'test/compat/time.test.ts',
  'test/compat/packages.test.ts',
  'test/cluster/schedules.test.ts',
  'test/async/kill.test.ts',
  'test/environment/heavy-work-fairness.test.ts',
  'test/engines/guest/interruptible-sort.test.ts',
  'examples/cluster/cluster.test.ts',
  'test/engines/remote/restore-ahead.test.ts',
  'test/adversarial/catastrophe.test.ts',
  'test/adversarial/memory.test.ts',
  'test/adversarial/thrown.test.ts',
];

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const cache = this.ctx.cache;
    const rank = (spec: TestSpecification): number => {
      if (cache.getTestSpecificationResult(spec)) return -1;
      const root = spec.project.config.root.replace(/\/?$/, '/');
      return LONGEST_FILES.indexOf(spec.moduleId.startsWith(root) ? spec.moduleId.slice(root.length) : spec.moduleId);
    };
    // Stable: a listed file without a cached result moves ahead of the unlisted files of its project.
    const ranked = sorted.map((spec, index) => ({ spec, index, rank: rank(spec) }));
    return ranked
      .sort((a, b) => {
        if (a.spec.project.name !== b.spec.project.name) return a.index - b.index;
        const ra = a.rank < 0 ? Infinity : a.rank;
        const rb = b.rank < 0 ? Infinity : b.rank;
        return ra !== rb ? ra - rb : a.index - b.index;
      })
      .map(({ spec }) => spec);
  }
}
