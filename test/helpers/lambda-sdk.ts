/** The real @aws-sdk/client-lambda (a devDependency) for host-side tests of the HTTP server. */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { strToU8, zipSync } from 'fflate';

export * as sdk from '@aws-sdk/client-lambda';

/** An SDK client of the server at `url`: test credentials, us-east-1, no retries (a failure is the answer). */
export function sdkClient(url: string): LambdaClient {
  return new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, maxAttempts: 1 });
}

/** A zip holding one `index.mjs` with `source`: a function's Code.ZipFile. */
export function zipModule(source: string): Uint8Array {
  return zipSync({ 'index.mjs': strToU8(source) });
}

/** The error a rejected send throws (its HTTP status in `$metadata`); throws when the call succeeded. */
export async function sdkFailure(promise: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}
