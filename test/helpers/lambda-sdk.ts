/** The real @aws-sdk/client-lambda (a devDependency) for host-side tests of the HTTP server. */
export * as sdk from '@aws-sdk/client-lambda';
