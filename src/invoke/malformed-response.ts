/**
 * Runtime.MalformedResponse: a function's response text that is not JSON. No Lambda counterpart
 * (the runtime client serialises a Node.js handler's result); the name follows the `Runtime.*`
 * family. Given by the wasm engine (a component's text answer, component-instance.ts) and by the
 * v8 and quickjs engines when a handler replaced JSON.stringify (invoke/result.ts). docs/wasm.md.
 */
export function malformedResponse(text: string, parseError: Error): { errorType: string; errorMessage: string } {
  const preview = text.length > 64 ? `${text.slice(0, 64)}...` : text;
  return {
    errorType: 'Runtime.MalformedResponse',
    errorMessage: `The function's response is not valid JSON (${parseError.message}): ${JSON.stringify(preview)}`,
  };
}
