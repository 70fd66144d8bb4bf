// A callback-style handler (nodejs22.x still accepts them): the response is sent from a timer.
/* global setTimeout */
export const handler = (event, context, callback) => {
  const started = Date.now();
  setTimeout(() => {
    callback(null, { waitedMs: Date.now() - started, requested: event.delayMs });
  }, event.delayMs ?? 20);
};
