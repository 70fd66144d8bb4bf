/**
 * The guest memory bomb that drives isolated-vm into its catastrophic error (issue #15): under
 * `memoryMb: 128` V8 exhausts the isolate's own heap before isolated-vm's soft limit acts, and
 * isolated-vm reports "catastrophic" (its thread parked for good). Tests of what lambdalet does after
 * a catastrophe (in-process v8 degrading, a process-isolation child replaced) share it.
 *
 * Why this shape: the catastrophe comes from the Map's own table, which V8 grows by doubling; near
 * the cap the next table cannot be allocated. What the Map holds only decides how fast the heap
 * fills and what each full collection must mark. 16-element arrays of small integers fill it with a
 * few hundred thousand objects rather than the millions of `{ i, s: 'v' + i }` pairs (an object and
 * a string each) the bomb used to hold. Measured on Node 24, one bomb per fresh process: on the
 * host's isolated-vm catastrophic 10/10 at 0.45-0.59 CPU-s (load 10-15), against 1.0-1.4 CPU-s for
 * the pairs (4/4); in a SnapStart restore server's isolate 5/5 at 0.44-0.50 CPU-s (load 6); under
 * process isolation, catastrophe-recovery.test.ts reached one in each of its two cases in 3 runs of 3. Shapes that were cheaper did not reach it: 64-, 256- and 1024-element arrays (in a Map or an
 * array) and an array of 16-element arrays were contained by the soft limit (Runtime.OutOfMemory, no
 * catastrophe); a Map of integers reached it once in two runs.
 *
 * On Node 26 the soft limit contains this bomb too, some runs: tests assert what holds either way.
 */
export const CATASTROPHE_BOMB =
  'export const handler = async () => { const m = new Map(); for (let i = 0; ; i++) m.set(i, [i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i]); }';

/** The cap the bomb is measured against: a function deployed with it must use this `memoryMb`. */
export const CATASTROPHE_BOMB_MEMORY_MB = 128;
