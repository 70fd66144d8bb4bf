import { describe, expect, it } from 'vitest';
import { decodeReply } from '../../../src/engines/guest/protocol.ts';

describe('guest reply decoding', () => {
  it('decodeReply: a forged error reply becomes an ErrorShape of strings, a non-object is refused', () => {
    const reply = decodeReply('e-0,0,{"errorType":1,"errorMessage":{"a":1},"trace":5}');
    expect(reply.error).toEqual({ errorType: '1', errorMessage: '[object Object]', trace: [] });
    expect(decodeReply('e-0,0,{"errorType":"E","errorMessage":"m","trace":["a",2,"b"]}').error?.trace).toEqual(['a', 'b']);
    expect(() => decodeReply('e-0,0,42')).toThrow(TypeError);
  });
});
