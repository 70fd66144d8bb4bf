// The README lists Node functions the sandbox's standard library does not have yet (issue #12: a
// new user's handler met `crypto.createDiffieHellman is not a function` with nothing saying so).
// Each one listed must still be absent, on every engine, so the list is dropped as gaps are filled.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine } from '../helpers/runtime.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = /<!-- absent-functions -->([\s\S]*?)<!-- \/absent-functions -->/.exec(readme)?.[1] ?? '';
/** `module.name` pairs written as code spans in the README's list. */
const listed = [...section.matchAll(/`([a-z_]+)\.([A-Za-z]+)`/g)].map((m) => [m[1]!, m[2]!] as const);

const handler = `
export const handler = async (event) => {
  const found = [];
  for (const [mod, name] of event.listed) {
    const m = mod === 'process' ? process : await import('node:' + mod).then((ns) => ns.default ?? ns);
    if (typeof m[name] === 'function') found.push(mod + '.' + name);
  }
  return found;
};
`;

describe('README: the standard library functions listed as absent', () => {
  it('the list is there', () => {
    expect(listed.length).toBeGreaterThan(20);
  });

  forEachEngine(({ withRuntime }) => {
    it('each one listed is still absent in the sandbox (remove it from the README once it is there)', () =>
      withRuntime(async ({ rt }) => {
        const res = await deployAndInvoke(rt, handler, { listed });
        expect(res.functionError, JSON.stringify(res.payload)).toBeUndefined();
        expect(res.payload).toEqual([]);
      }));
  });
});
