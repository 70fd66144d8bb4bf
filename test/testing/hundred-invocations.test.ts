// 100 invocations of a trivial handler: this whole file should take well under a second
// (the figure is in the acceptance; it is not asserted here: no timed assertions).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadHandler, type LoadedHandler } from '../../src/testing/index.ts';

let fn: LoadedHandler<{ n: number }, { n: number }>;
beforeAll(async () => {
  fn = await loadHandler(new URL('./fixtures/trivial.mjs', import.meta.url));
});
afterAll(() => fn.dispose());

for (let n = 0; n < 100; n++) {
  it(`invocation ${n}`, async () => {
    const res = await fn.invoke({ n });
    expect(res.payload).toEqual({ n });
    expect(res.coldStart).toBe(n === 0);
  });
}
