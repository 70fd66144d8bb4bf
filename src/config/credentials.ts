/**
 * The `credentials` field: the AWS credentials a function's execution role would give it. Lambda
 * puts them in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (reserved names a
 * function cannot set itself); the AWS SDK's default chain reads them there. Either fixed values
 * or a host-side provider called once per execution environment (a fresh STS session per
 * environment, as Lambda's role credentials are). Never the host's own environment.
 */
import { z } from 'zod';
import { expected } from './format.ts';

/** Credentials as Lambda's environment carries them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** Called once per execution environment, before its INIT. */
export type AwsCredentialProvider = () => AwsCredentials | Promise<AwsCredentials>;

/** The `credentials` option after parsing: a provider, even for fixed values. */
export type CredentialSource = AwsCredentialProvider;

/** Longest value Lambda's 4 KB environment could carry for one variable. */
const CREDENTIAL_MAX_LENGTH = 4096;

const field = (name: string) =>
  z
    .string(expected(`be a non-empty string of at most ${CREDENTIAL_MAX_LENGTH} characters`))
    .min(1, expected(`be a non-empty string of at most ${CREDENTIAL_MAX_LENGTH} characters`))
    .max(CREDENTIAL_MAX_LENGTH, expected(`be a non-empty string of at most ${CREDENTIAL_MAX_LENGTH} characters`))
    .describe(name);

const valuesSchema = z.strictObject(
  { accessKeyId: field('accessKeyId'), secretAccessKey: field('secretAccessKey'), sessionToken: field('sessionToken').optional() },
  expected('be { accessKeyId, secretAccessKey, sessionToken? } or a function returning it'),
);

export const credentialsSchema = z.union(
  [
    valuesSchema.transform((values): CredentialSource => {
      const frozen = Object.freeze({ ...values });
      return () => frozen;
    }),
    z.custom<AwsCredentialProvider>((v) => typeof v === 'function'),
  ],
  expected('be { accessKeyId, secretAccessKey, sessionToken? } or a function returning it'),
);

/**
 * Calls the provider and checks what it returned: the environment variables Lambda sets from a
 * role's credentials. Throws a TypeError naming the bad field when the provider returns junk.
 */
export async function credentialVariables(source: CredentialSource | undefined): Promise<Record<string, string>> {
  if (!source) return {};
  const given: unknown = await source();
  const parsed = valuesSchema.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.length ? `credentials.${issue.path.join('.')}` : 'credentials';
    throw new TypeError(`The credentials provider returned an invalid value: expected \`${at}\` to ${issue?.message ?? 'be valid'}`);
  }
  const { accessKeyId, secretAccessKey, sessionToken } = parsed.data;
  return {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    ...(sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: sessionToken }),
  };
}
