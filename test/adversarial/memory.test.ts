/** Adversarial catalogue (issue #15): memory bombs under memoryMb 128; see cases.ts and harness.ts. */
import { BOMBS, MAP_BOMB, OFF_HEAP_BOMBS, WASM_BOMBS } from './cases.ts';
import { catalogue, MODES } from './harness.ts';

// quickjs `shared` isolation has no per-sandbox memory cap (memoryMb only bounds single allocations
// there, see src/engines/quickjs/quickjs-engine.ts): it is for density, not hostile code, and a
// bomb in it exhausts the shared instance for every sandbox in it. Its bombs are skipped visibly.
const capped = MODES.map((m) =>
  m.name === 'quickjs-shared' ? { ...m, skip: m.skip ?? 'quickjs shared isolation has no per-sandbox memory cap; not for hostile code' } : m,
);
catalogue('adversarial: memory bombs', BOMBS, capped);
catalogue('adversarial: off-heap memory bombs', OFF_HEAP_BOMBS, capped);
catalogue('adversarial: WebAssembly memory bombs', WASM_BOMBS, capped);
// The Map bomb exhausts V8's own heap: isolated-vm's catastrophic error. In-process that takes the
// whole v8 engine down, so it has its own file (catastrophe.test.ts); here only quickjs.
catalogue('adversarial: memory bombs', [MAP_BOMB], capped.filter((m) => m.engine === 'quickjs'));
