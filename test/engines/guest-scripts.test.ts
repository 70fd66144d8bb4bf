/**
 * The guest runtime's two scripts (guest-bundle.ts, issue 21): v8's with the WebAssembly ledger
 * (guest/wasm-ledger.ts), QuickJS's without it (QuickJS has no WebAssembly, and parses or images the
 * script at every boot). Each is evaluated here in a plain V8 context (node:vm), an engine that has
 * WebAssembly: v8's bounds it, QuickJS's removes it rather than leave it unbounded.
 */
import { createContext, runInContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { guestRuntime } from '../../src/engines/guest-bundle.ts';

describe("the guest runtime's scripts per engine", () => {
  it("QuickJS's leaves the WebAssembly ledger out; v8's keeps it", async () => {
    const { script, quickjsScript } = await guestRuntime();
    // A message only the ledger writes (wasm-ledger.ts bound()).
    const ledgerText = 'a shared memory is not supported';
    expect(script).toContain(ledgerText);
    expect(quickjsScript).not.toContain(ledgerText);
    expect(quickjsScript.length).toBeLessThan(script.length - 20_000);
  });

  it('in an engine with WebAssembly, v8\'s script bounds it and QuickJS\'s removes it', async () => {
    const { script, quickjsScript } = await guestRuntime();
    const v8 = createContext({});
    expect(typeof runInContext(script, v8)).toBe('function');
    // The bounded constructor, not V8's own.
    expect(runInContext('String(WebAssembly.Module).includes("[native code]")', v8)).toBe(false);
    const quickjs = createContext({});
    expect(typeof runInContext(quickjsScript, quickjs)).toBe('function');
    expect(runInContext('typeof WebAssembly', quickjs)).toBe('undefined');
  });
});
