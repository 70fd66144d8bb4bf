/**
 * The standard library in shared memory (src/engines/shared-stdlib.ts, issue 21): engine servers
 * read one copy of its chunks; what they read must be exactly the chunks as strings.
 */
import { describe, expect, it } from 'vitest';
import { guestRuntime, withStandardLibrary } from '../../src/engines/guest-bundle.ts';
import { isSharedStandardLibrary, shareStandardLibrary, standardLibraryView } from '../../src/engines/shared-stdlib.ts';

describe('the standard library in shared memory', () => {
  it('every chunk reads back exactly as it was, from one buffer per library', async () => {
    const { stdlib } = await guestRuntime();
    const packed = shareStandardLibrary(stdlib)!;
    expect(packed).toBeDefined();
    expect(shareStandardLibrary(stdlib)).toBe(packed);
    expect(isSharedStandardLibrary(packed)).toBe(true);
    expect(isSharedStandardLibrary(stdlib)).toBe(false);
    // What a worker receives: a structured clone (the buffer itself is shared, not copied).
    const view = standardLibraryView(structuredClone(packed));
    expect(Object.keys(view).sort()).toEqual(Object.keys(stdlib).sort());
    for (const name of Object.keys(stdlib)) expect(view[name], name).toBe(stdlib[name]);
    const answer = withStandardLibrary(view, () => 'next');
    const name = Object.keys(stdlib)[0]!;
    expect(answer('stdlib', JSON.stringify([name]))).toBe(`o${JSON.stringify(stdlib[name])}`);
    expect(answer('stdlib', JSON.stringify(['no such chunk']))).toMatch(/^e/);
    expect(answer('other', '[]')).toBe('next');
  });

  it('keeps latin1 characters; a library with a wider character is not shared', () => {
    const latin1 = { a: 'caf\u00e9 \u00ff\u0000', b: '' };
    const view = standardLibraryView(shareStandardLibrary(latin1)!);
    expect({ ...view }).toEqual(latin1);
    expect(shareStandardLibrary({ a: 'plain', b: 'snow \u2603' })).toBeUndefined();
  });
});
