/**
 * Code signing: a package's (or a layer's) detached ed25519 signature over the 32 bytes of its
 * sha256, checked against the function's allowed publishers at deploy (node:crypto's verify; no
 * cryptography here).
 *
 * Lambda's rule: under `Enforce`, an unsigned package, a signature that does not verify (the
 * package was changed after signing) or one made by a key not allowed is refused with
 * CodeVerificationFailedException; under `Warn` the deploy goes ahead and the failure is reported
 * (here: one WARN line to the runtime's log sink, under the function's name).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { FunctionConfig } from '../config/index.ts';
import { CodeVerificationFailedException, InvalidParameterValueException } from '../errors.ts';
import type { LogSink } from '../observability/log-sink.ts';

/** Why a package failed verification, or undefined when it verified. */
export type SignatureProblem = 'unsigned' | 'malformed signature' | 'signature does not match this package or any allowed publisher';

/** Parses the allowed publishers' keys. @throws InvalidParameterValueException naming the key that is not an ed25519 public key. */
export function publisherKeys(config: FunctionConfig): KeyObject[] {
  return (config.codeSigning?.allowedPublishers ?? []).map((text, index) => {
    let key: KeyObject;
    try {
      key = text.includes('-----BEGIN')
        ? createPublicKey(text)
        : createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(text, 'base64').toString('base64url') }, format: 'jwk' });
    } catch (error) {
      throw new InvalidParameterValueException(`codeSigning.allowedPublishers.${index}`, `Expected \`codeSigning.allowedPublishers.${index}\` to be an ed25519 public key (PEM or the raw 32 bytes in base64): ${(error as Error).message}`, { cause: error });
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new InvalidParameterValueException(`codeSigning.allowedPublishers.${index}`, `Expected \`codeSigning.allowedPublishers.${index}\` to be an ed25519 public key, got a ${String(key.asymmetricKeyType)} key`);
    }
    return key;
  });
}

/** The problem with a package's signature under `config`'s allowed publishers, or undefined when one of them signed it. */
export function signatureProblem(config: FunctionConfig, sha256: string, codeSignature: string | undefined): SignatureProblem | undefined {
  const keys = publisherKeys(config);
  if (codeSignature === undefined) return 'unsigned';
  const signature = Buffer.from(codeSignature, 'base64');
  // ed25519 signatures are 64 bytes; anything else (or text that is not base64) cannot verify.
  if (signature.byteLength !== 64 || signature.toString('base64') !== codeSignature.replace(/\s/g, '')) return 'malformed signature';
  const digest = Buffer.from(sha256, 'hex');
  return keys.some((key) => verify(null, digest, key, signature)) ? undefined : 'signature does not match this package or any allowed publisher';
}

/** A signed artifact: the function's package or one of its layers. */
export interface SignedArtifact {
  readonly sha256: string;
  readonly codeSignature: string | undefined;
  /** How the problem names it: `code <sha256> of <function ARN>` or `layer <layer version ARN> (<sha256>)`. */
  readonly label: string;
}

/**
 * Applies the function's code signing policy to its package and to each of its layers (Lambda
 * checks a function's layers against the same signing profiles: configuration-codesigning.html).
 * @throws CodeVerificationFailedException under `Enforce` (the first artifact that fails);
 *   InvalidParameterValueException for a bad key.
 */
export function checkCodeSignature(config: FunctionConfig, artifacts: readonly SignedArtifact[], sink: LogSink): void {
  if (config.codeSigning === undefined) return;
  for (const artifact of artifacts) {
    const problem = signatureProblem(config, artifact.sha256, artifact.codeSignature);
    if (problem === undefined) continue;
    const detail = `${artifact.label}: ${problem}`;
    if (config.codeSigning.untrustedArtifactOnDeployment === 'Enforce') {
      throw new CodeVerificationFailedException(
        `The code signature failed one or more validation checks and the code signing policy is set to Enforce: ${detail}`,
      );
    }
    sink.write(`${new Date().toISOString()}\tundefined\tWARN\tCode signature check failed (policy Warn, deployed anyway): ${detail}`, {
      functionName: config.name,
      logStreamName: 'lambdalet/code-signing',
    });
  }
}
