/**
 * The child of the child_process.fork baseline: evaluates the handler script from
 * BENCH_HANDLER_SCRIPT, says it is ready (messages sent before a listener exists would be lost),
 * then answers every IPC message with the handler's result.
 */
const handler = (0, eval)(process.env.BENCH_HANDLER_SCRIPT ?? '') as (event: unknown) => Promise<unknown>;
process.on('message', (event: unknown) => {
  handler(event).then(
    (value) => process.send!({ ok: true, value }),
    (error: unknown) => process.send!({ ok: false, value: String(error) }),
  );
});
process.send!({ ready: true });
