// A CommonJS handler. Module state lives as long as the execution environment: the count goes up on
// every warm invoke and starts again at 1 after a cold start.
/* global module */
let invocations = 0;
const bootedAt = new Date().toISOString();
console.log(`INIT: module loaded at ${bootedAt}`);

module.exports.handler = async (event, context) => {
  invocations += 1;
  console.log(`invocation ${invocations} of this environment (request ${context.awsRequestId})`);
  return { invocations, bootedAt, step: event.step };
};
