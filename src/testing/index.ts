/**
 * lambdalet/testing: unit-test a Lambda handler as Lambda runs it — sandboxed, with Lambda's
 * context, errors, timeouts and logs — from vitest or node:test.
 *
 *   const fn = await loadHandler<APIGatewayProxyEventV2, APIGatewayProxyResultV2>('./src/api.ts');
 *   const res = await fn.invoke(httpApiEvent({ rawPath: '/orders' }));
 */
// First: on a Node older than 24 importing lambdalet stops here, with one line saying so.
import '../node-version-guard.ts';
export {
  loadHandler,
  type FunctionErrorPayload,
  type HandlerInvokeOptions,
  type Invocation,
  type InvocationFailure,
  type InvocationSuccess,
  type LoadHandlerOptions,
  type LoadedHandler,
} from './load-handler.ts';
export {
  apiGatewayRestEvent,
  base64,
  dynamoDbStreamEvent,
  eventBridgeEvent,
  functionUrlEvent,
  httpApiEvent,
  kinesisStreamEvent,
  s3Event,
  scheduledEvent,
  snsEvent,
  sqsEvent,
  type DeepPartial,
} from './events.ts';
export { vitestConfig } from './vitest-preset.ts';
