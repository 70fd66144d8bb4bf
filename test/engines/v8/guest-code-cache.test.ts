import { createRequire } from 'node:module';
import type ivm from 'isolated-vm';
import { describe, expect, it } from 'vitest';
import { guestRuntimeSource } from '../../../src/engines/guest-bundle.ts';
import { warmGuestCodeCache } from '../../../src/engines/v8/guest-code-cache.ts';

const ivmModule = createRequire(import.meta.url)('isolated-vm') as typeof ivm;

describe('v8 guest code cache', () => {
  it('guest code cache: made after a warm-up run, it holds more than the compile-time cache and V8 accepts it', async () => {
    const code = await guestRuntimeSource();
    const warm = warmGuestCodeCache(ivmModule, code, '/var/runtime/lambdalet-guest.js');
    expect(warm).toBeDefined();

    const scratch = new ivmModule.Isolate({ memoryLimit: 64 });
    try {
      const plain = (scratch.compileScriptSync(code, { filename: '/var/runtime/lambdalet-guest.js', produceCachedData: true }) as ivm.Script &
        ivm.CachedDataResult).cachedData;
      // The warm-up compiled the dispatch/invoke paths lazily; their bytecode is in the cache now.
      expect(warm!.copy().byteLength).toBeGreaterThan(plain!.copy().byteLength);
    } finally {
      scratch.dispose();
    }

    const fresh = new ivmModule.Isolate({ memoryLimit: 64 });
    try {
      const script = fresh.compileScriptSync(code, { filename: '/var/runtime/lambdalet-guest.js', cachedData: warm }) as ivm.Script & {
        cachedDataRejected?: boolean;
      };
      expect(script.cachedDataRejected).toBe(false);
    } finally {
      fresh.dispose();
    }
  });
});
