/**
 * SnapStart pool refills shared between restore servers (issue 21): a V8Image refills only while
 * its gate gives it a slot (v8/snapshot.ts RefillGate), and the engine server's gate hands out the
 * slots of ServerData.refills (remote/server.ts refillGate), so with fewer slots than servers one
 * server's thread stays free for restores. The image here deserialises stand-ins: no isolate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type ivm from 'isolated-vm';
import { describe, expect, it } from 'vitest';
import { refillGate } from '../../../src/engines/remote/server.ts';
import { V8Image, type RefillGate, type RestoredIsolate } from '../../../src/engines/v8/snapshot.ts';
import { eventually } from '../../helpers/eventually.ts';

function standIn(): RestoredIsolate {
  return { isolate: { isDisposed: false, dispose() {} } } as unknown as RestoredIsolate;
}

describe('v8 SnapStart pool refills behind a shared gate', () => {
  it('an image refills only while its gate lets it, and leaves the slot after each deserialisation', async () => {
    let open = false;
    let inside = 0;
    let made = 0;
    const gate: RefillGate = {
      enter: () => {
        if (!open) return false;
        inside++;
        return true;
      },
      leave: () => void inside--,
    };
    const snapshot = { release() {} } as unknown as ivm.ExternalCopy<ArrayBuffer>;
    const image = new V8Image(snapshot, 1024, 128, async () => {
      made++;
      await sleep(1);
      return standIn();
    }, 2, gate);
    await sleep(60);
    expect(made).toBe(0);
    expect(image.readyCount).toBe(0);
    open = true;
    await eventually(() => expect(image.readyCount).toBe(2));
    expect(made).toBe(2);
    expect(inside).toBe(0);
    image.dispose();
  });

  it("the server's gate hands out its slots once each and frees them on leave", () => {
    const slots = new SharedArrayBuffer(4);
    const a = refillGate(slots);
    const b = refillGate(slots);
    expect(a.enter()).toBe(true);
    expect(a.enter()).toBe(true); // already held
    expect(b.enter()).toBe(false);
    a.leave();
    expect(b.enter()).toBe(true);
    expect(a.enter()).toBe(false);
    b.leave();
    expect(new Int32Array(slots)[0]).toBe(0);
  });
});
