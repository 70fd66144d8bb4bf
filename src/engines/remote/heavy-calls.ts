/**
 * Which guest host calls are heavy (answered asynchronously: environment/host-bridge.ts callAsync),
 * told apart inside an engine server before the call goes to the host, so that a v8 sandbox there
 * can wait for it on its own thread (server.ts #heavyCall). The same rule as the bridge's: Brotli,
 * and crypto's pbkdf2, scrypt and key generation. A call the bridge then declines is still
 * answered (engine-pool.ts answers it synchronously), so the two never disagree on an answer.
 */
import { splitPayload } from '../guest/protocol.ts';
import { CryptoService } from '../../environment/crypto-service.ts';

export function isHeavyHostCall(op: string, args: string, bytes: Uint8Array | undefined): boolean {
  if (op === 'zlib.brotli') return true;
  if (op !== 'crypto') return false;
  try {
    const parsed: unknown = JSON.parse(bytes === undefined ? splitPayload(args)[0] : args);
    return Array.isArray(parsed) && CryptoService.isHeavy(String(parsed[0]));
  } catch {
    return false; // the synchronous call reports the malformed request
  }
}
