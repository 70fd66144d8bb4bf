/**
 * InvokeWithResponseStream (`POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations`):
 * the function's bytes as `PayloadChunk` events, then one `InvokeComplete` event (ErrorCode,
 * ErrorDetails, LogResult), in the AWS event-stream encoding the SDK decodes, written by
 * @smithy/eventstream-codec (the SDK's own codec, not ours). Headers per the SDK's model
 * (InvokeWithResponseStreamResponse): `X-Amz-Executed-Version`, and `Content-Type` carrying the
 * stream's content type (ResponseStreamContentType). Each event message has the `:event-type`,
 * `:message-type: event` and `:content-type` headers of AWS's event-stream framing.
 */
import type { ServerResponse } from 'node:http';
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { InvokeOptionsInput } from '../../config/index.ts';
import type { ApiRequest, ApiResponse } from '../router.ts';
import type { ApiContext } from './context.ts';
import { eventFromPayload } from '../../invoke/payload.ts';
import { invokeOptionsOf } from './invoke.ts';
import { validationError } from './shapes.ts';

/** InvokeWithResponseStream's X-Amz-Invocation-Type: the model's ResponseStreamingInvocationType (no Event). */
const STREAM_INVOCATION_TYPES = ['RequestResponse', 'DryRun'] as const;

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function event(type: string, contentType: string, body: Uint8Array): Uint8Array {
  const message: Message = {
    headers: {
      ':event-type': { type: 'string', value: type },
      ':message-type': { type: 'string', value: 'event' },
      ':content-type': { type: 'string', value: contentType },
    },
    body,
  };
  return codec.encode(message);
}

export async function invokeWithResponseStream(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const raw = request.headers['x-amz-invocation-type'];
  const invocationType = Array.isArray(raw) ? raw[0] : raw;
  if (invocationType !== undefined && !(STREAM_INVOCATION_TYPES as readonly string[]).includes(invocationType)) {
    throw validationError('invocationType', invocationType, `Member must satisfy enum value set: [${STREAM_INVOCATION_TYPES.join(', ')}]`);
  }
  const options: InvokeOptionsInput = invokeOptionsOf(request);
  if (invocationType === 'DryRun') {
    // Checked (the function, qualifier, payload), nothing run: answered as Invoke's DryRun is, 204.
    const checked = await ctx.rt.invoke(request.params.FunctionName!, eventFromPayload(request.body), { ...options, invocationType: 'DryRun' });
    return { status: checked.statusCode, headers: { 'x-amzn-RequestId': checked.requestId } };
  }
  const s = await ctx.rt.invokeWithResponseStream(request.params.FunctionName!, eventFromPayload(request.body), { ...options, ...ctx.responseStream });
  return {
    status: 200,
    headers: { 'Content-Type': s.contentType, 'X-Amz-Executed-Version': s.executedVersion, 'x-amzn-RequestId': s.requestId },
    stream: async (res: ServerResponse) => {
      try {
        for await (const chunk of s.payload as AsyncIterable<Buffer>) {
          if (!res.write(event('PayloadChunk', 'application/octet-stream', chunk))) await new Promise((resolve) => res.once('drain', resolve));
        }
        const done = await s.completion;
        res.end(event('InvokeComplete', 'application/json', fromUtf8(JSON.stringify(done.invokeComplete))));
      } catch {
        // The client went away, or the runtime failed mid-stream: nothing more can be framed.
        s.payload.destroy();
        res.destroy();
      }
    },
  };
}
