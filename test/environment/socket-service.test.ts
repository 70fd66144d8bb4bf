/**
 * The host's side of the guest's sockets (src/environment/socket-service.ts) without a guest: what
 * a hostile or slow guest can make the host hold is bounded, and nothing is lost. A guest that
 * never reads leaves at most SOCKET_READ_BUFFER_MAX (plus one chunk) held, the host socket paused;
 * a guest that writes without waiting is told to wait at SOCKET_WRITE_BUFFER_MAX and refused past
 * twice that; the snapshot and disposal close everything; bad requests are refused.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOCKET_READ_BUFFER_MAX, SOCKET_WRITE_BUFFER_MAX, SocketService } from '../../src/environment/socket-service.ts';
import { eventually } from '../helpers/eventually.ts';

const allowAll = (): void => {};
const MIB = 1024 * 1024;

let server: Server;
let port = 0;
const accepted: Socket[] = [];
/** Bytes the next connection accepted sends (set by a case before it connects; then back to 0). */
let sendOnAccept = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
    if (sendOnAccept > 0) {
      const bytes = Buffer.alloc(sendOnAccept);
      sendOnAccept = 0;
      for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
      socket.end(bytes);
    } else {
      socket.pause(); // reads nothing: the client's writes back up
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

type Poll = ReturnType<SocketService['poll']>;
const connected = async (service: SocketService, id: number): Promise<void> => {
  await eventually(() => {
    const { updates } = service.poll([id], [id]);
    if (!updates.some((u) => u.i === id && u.c)) throw new Error('not connected yet');
  });
};

/** Polls `id` until the host reports it closed, ending the guest's side at the peer's end; every byte received, in order. */
async function drainUntilClosed(service: SocketService, id: number, onUpdate: (update: Poll['updates'][number]) => void = () => {}): Promise<Buffer> {
  const received: Buffer[] = [];
  let closed = false;
  await eventually(() => {
    const { updates, payload }: Poll = service.poll([id], []);
    let at = 0;
    for (const update of updates) {
      if (update.n > 0 && payload) received.push(Buffer.from(payload.subarray(at, at + update.n)));
      at += update.n;
      onUpdate(update);
      if (update.e) service.end(id); // as the guest's Duplex does (allowHalfOpen false): then the host socket closes
      if (update.z) closed = true;
    }
    if (!closed) throw new Error('not closed yet');
  });
  return Buffer.concat(received);
}

/** The index of the first byte of `all` that is not the server's pattern (`i % 251`), or -1. */
function firstWrongByte(all: Buffer): number {
  for (let i = 0; i < all.length; i++) if (all[i] !== i % 251) return i;
  return -1;
}

describe('SocketService', () => {
  it('a guest that does not read: the host holds at most its read bound (plus one chunk) and pauses the socket; taken later, every byte arrives in order', async () => {
    sendOnAccept = 4 * MIB;
    const service = new SocketService(true, allowAll);
    const id = service.connect({ host: '127.0.0.1', port });
    // Polled with the socket paused on the guest's side: connect news only, no data taken.
    await connected(service, id);
    await eventually(() => expect(service.heldBytes).toBeGreaterThanOrEqual(SOCKET_READ_BUFFER_MAX));
    // Give the peer every chance to push more: the bound holds while the guest stays paused.
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      expect(service.heldBytes).toBeLessThanOrEqual(SOCKET_READ_BUFFER_MAX + 64 * 1024);
    }
    let ended = false;
    const all = await drainUntilClosed(service, id, (update) => {
      if (update.e) ended = true;
      expect(update.x).toBeUndefined();
    });
    expect(ended).toBe(true);
    expect(all.length).toBe(4 * MIB);
    expect(firstWrongByte(all)).toBe(-1);
    expect(service.open).toBe(0);
    service.dispose();
  });

  it('a guest that writes without waiting: told to wait at the write bound, refused past twice it; the host never holds more', async () => {
    const service = new SocketService(true, allowAll);
    const id = service.connect({ host: '127.0.0.1', port });
    await connected(service, id);
    const chunk = new Uint8Array(64 * 1024);
    let room = true;
    let writes = 0;
    while (room) {
      room = service.write(id, chunk);
      writes++;
    }
    expect(writes * chunk.length).toBeGreaterThanOrEqual(SOCKET_WRITE_BUFFER_MAX);
    let refused: unknown;
    try {
      for (let i = 0; i < 1000; i++) service.write(id, chunk);
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: 'ENOBUFS' });
    expect(service.heldBytes).toBeLessThanOrEqual(2 * SOCKET_WRITE_BUFFER_MAX + chunk.length);
    expect(() => service.write(id, new Uint8Array(SOCKET_WRITE_BUFFER_MAX + 1))).toThrow(RangeError);
    service.dispose();
    expect(service.open).toBe(0);
    expect(() => service.write(id, chunk)).toThrow('This socket has been ended by the other party');
  });

  it('the runtime\'s host-memory budget: a refusal pauses reading (the bytes wait in TCP) and refuses writes with ENOBUFS; room again, every byte arrives', async () => {
    sendOnAccept = 1 * MIB;
    const service = new SocketService(true, allowAll);
    // A budget of 64 KiB of socket buffers, then none, then plenty.
    let limit = 64 * 1024;
    const asked: number[] = [];
    service.room = (bytes) => {
      asked.push(bytes);
      return bytes <= limit;
    };
    const id = service.connect({ host: '127.0.0.1', port });
    await connected(service, id);
    await eventually(() => expect(service.heldBytes).toBeGreaterThan(limit));
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      // Over the budget by at most the one read that found it full.
      expect(service.heldBytes).toBeLessThanOrEqual(limit + 64 * 1024);
    }
    expect(asked.length).toBeGreaterThan(0);
    expect(() => service.write(id, new Uint8Array(1024))).toThrow(expect.objectContaining({ code: 'ENOBUFS', message: expect.stringContaining('host memory budget') }));
    limit = 16 * MIB;
    const all = await drainUntilClosed(service, id);
    expect(all.length).toBe(1 * MIB);
    expect(firstWrongByte(all)).toBe(-1);
    service.dispose();
  });

  it('the snapshot closes every socket; the guest\'s next poll reports each closed with ECONNRESET saying why, as it does for ids a restored guest brings', async () => {
    const service = new SocketService(true, allowAll);
    const id = service.connect({ host: '127.0.0.1', port });
    await connected(service, id);
    service.closeForSnapshot();
    expect(service.open).toBe(0);
    const { updates } = service.poll([id, 999], []);
    expect(updates.map((u) => [u.i, u.x?.code, u.z])).toEqual([[id, 'ECONNRESET', true], [999, 'ECONNRESET', true]]);
    expect(updates[0]!.x?.message).toContain('SnapStart snapshot');
  });

  it('bad requests are refused before anything is sent; the egress check runs first and its refusal is thrown', () => {
    const service = new SocketService(true, allowAll);
    for (const bad of [null, 'x', { host: '', port: 1 }, { host: 'a', port: -1 }, { host: 'a', port: 65536 }, { host: 'a', port: 1.5 }, { host: 'a', port: '80' }, { host: 'a'.repeat(300), port: 1 }, { host: 'a', port: 1, tls: { ca: [1] } }]) {
      expect(() => service.connect(bad)).toThrow();
    }
    expect(service.open).toBe(0);
    const denying = new SocketService(false, (host) => {
      throw new Error(`denied ${host}`);
    });
    expect(() => denying.connect({ host: 'DB.example.com', port: 5432 })).toThrow('denied db.example.com');
  });
});
