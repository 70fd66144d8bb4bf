/** ReadableStream / WritableStream / TransformStream: web-streams-polyfill's ponyfill (the reference implementation, packaged). */
import * as ponyfill from 'web-streams-polyfill';

export const streams = ponyfill;
