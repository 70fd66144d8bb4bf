// An async ESM handler: returns the event it got and an environment variable set at deploy.
export const handler = async (event, context) => {
  return {
    greeting: `${process.env.GREETING}, ${event.name ?? 'world'}!`,
    functionName: context.functionName,
    event,
  };
};
