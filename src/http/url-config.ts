/**
 * Function URL configurations (Lambda's CreateFunctionUrlConfig and friends): one per function
 * and qualifier (`$LATEST` or an alias — Lambda refuses a published version number), kept by the
 * runtime in memory and, through `persist`, in the registry's store (`dataDir`: a restarted runtime
 * serves the same URLs, url ids included). Light on purpose: runtime.ts imports it eagerly, the
 * server that serves the URLs is loaded on `serve()`.
 *
 * Routing: by path, `http://<server>/lambda-url/<urlId>/...` (the rest of the path is the event's
 * rawPath), because `<urlId>.lambda-url.<region>.localhost` does not resolve everywhere; a request
 * whose Host is `<urlId>.lambda-url.<region>.on.aws` or `...localhost` is routed by host name too.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { expected, parseWith, type Subject } from '../config/format.ts';
import { integerIn } from '../config/fields.ts';
import { InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException } from '../errors.ts';

/** Lambda's Cors type (CreateFunctionUrlConfig), camelCased. */
export interface CorsInput {
  readonly allowCredentials?: boolean;
  readonly allowHeaders?: readonly string[];
  readonly allowMethods?: readonly string[];
  readonly allowOrigins?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  /** Seconds a browser may cache a preflight answer, 0 to 86400. */
  readonly maxAge?: number;
}

/** What `rt.createFunctionUrlConfig(name, input)` accepts. */
export interface FunctionUrlConfigInput {
  /** `$LATEST` (default) or an alias name; a version number is refused, as on Lambda. */
  readonly qualifier?: string;
  /** `NONE`: anyone may call it; `AWS_IAM`: requests must be SigV4-signed with a key of `serve({ auth })`. Required. */
  readonly authType: 'NONE' | 'AWS_IAM';
  readonly cors?: CorsInput;
  /** `BUFFERED` (default, 6 MB responses) or `RESPONSE_STREAM` (streamed, 200 MB). */
  readonly invokeMode?: 'BUFFERED' | 'RESPONSE_STREAM';
}

/** A function URL's configuration (Lambda's FunctionUrlConfig). */
export interface FunctionUrlConfig {
  /** `http://<server>/lambda-url/<urlId>/` while a server runs; `/lambda-url/<urlId>/` otherwise. */
  readonly functionUrl: string;
  readonly urlId: string;
  readonly functionName: string;
  readonly functionArn: string;
  readonly qualifier: string;
  readonly authType: 'NONE' | 'AWS_IAM';
  readonly cors?: CorsInput;
  readonly invokeMode: 'BUFFERED' | 'RESPONSE_STREAM';
  readonly creationTime: string;
  readonly lastModifiedTime: string;
}

const stringList = z.array(z.string(expected('be an array of strings')), expected('be an array of strings')).max(100, expected('be an array of at most 100 strings'));
const corsSchema = z.strictObject(
  {
    allowCredentials: z.boolean(expected('be a boolean')).optional(),
    allowHeaders: stringList.optional(),
    allowMethods: stringList.optional(),
    allowOrigins: stringList.optional(),
    exposeHeaders: stringList.optional(),
    maxAge: integerIn(0, 86400).optional(),
  },
  expected('be an object like { allowOrigins: [...], allowMethods: [...] }'),
);
const inputSchema = z.strictObject(
  {
    qualifier: z.string(expected('be `$LATEST` or an alias name')).regex(/^(\$LATEST|(?![0-9]+$)[a-zA-Z0-9_-]{1,128})$/, expected('be `$LATEST` or an alias name (a function URL cannot point at a published version)')).optional(),
    authType: z.enum(['NONE', 'AWS_IAM'], expected("be 'NONE' or 'AWS_IAM'")),
    cors: corsSchema.optional(),
    invokeMode: z.enum(['BUFFERED', 'RESPONSE_STREAM'], expected("be 'BUFFERED' or 'RESPONSE_STREAM'")).default('BUFFERED'),
  },
  expected('be an object like { authType: "NONE" }'),
);
const updateSchema = inputSchema.partial().omit({ qualifier: true });
const subject: Subject = { name: 'function URL config', knownOptions: Object.keys(inputSchema.shape), renames: { AuthType: 'authType', Cors: 'cors', InvokeMode: 'invokeMode', Qualifier: 'qualifier' } };

type Stored = Omit<FunctionUrlConfig, 'functionUrl'>;

/** Where a change goes to be kept: `json` undefined removes the key (registry/store.ts putHttpSetting). */
export type PersistSetting = (key: string, json: string | undefined) => void;

export class FunctionUrlConfigs {
  readonly #byKey = new Map<string, Stored>();
  readonly #byId = new Map<string, Stored>();
  /** The running server's origin (`http://127.0.0.1:9001`), or '' when none runs. */
  origin = '';
  /** Set by the runtime when its store keeps HTTP settings; called before memory changes, so a refused write changes nothing. */
  persist: PersistSetting | undefined;

  /** The configs a store kept (`function-url` settings), after their functions were restored. */
  restore(settings: readonly { readonly key: string; readonly json: string }[]): void {
    for (const { json } of settings) this.#set(JSON.parse(json) as Stored);
  }

  /**
   * Another runtime sharing the store (a cluster member) set (`json`) or deleted (undefined) the
   * config under `key` (`function:qualifier`): applied here as it is, not kept again.
   */
  applyChange(key: string, json: string | undefined): void {
    const old = this.#byKey.get(key);
    if (old) {
      this.#byKey.delete(key);
      this.#byId.delete(old.urlId);
    }
    if (json !== undefined) this.#set(JSON.parse(json) as Stored);
  }

  #set(stored: Stored): void {
    this.#byKey.set(`${stored.functionName}:${stored.qualifier}`, stored);
    this.#byId.set(stored.urlId, stored);
  }

  #keep(stored: Stored): void {
    this.persist?.(`${stored.functionName}:${stored.qualifier}`, JSON.stringify(stored));
    this.#set(stored);
  }

  create(functionName: string, functionArn: string, input: unknown): FunctionUrlConfig {
    const parsed = parseWith(inputSchema, input, subject);
    const qualifier = parsed.qualifier ?? '$LATEST';
    const key = `${functionName}:${qualifier}`;
    const arn = qualifier === '$LATEST' ? functionArn : `${functionArn}:${qualifier}`;
    if (this.#byKey.has(key)) throw new ResourceConflictException(`Failed to create function url config for [functionArn = ${arn}]. Error message:  FunctionUrlConfig exists for this Lambda function`);
    const now = new Date().toISOString();
    // Lambda's url ids are 32 lower-case letters and digits.
    const urlId = randomBytes(20).toString('base64').replace(/[^a-z0-9]/gi, '').toLowerCase().padEnd(32, '0').slice(0, 32);
    const stored: Stored = { urlId, functionName, functionArn: arn, qualifier, authType: parsed.authType, ...(parsed.cors ? { cors: Object.freeze(parsed.cors) } : {}), invokeMode: parsed.invokeMode, creationTime: now, lastModifiedTime: now };
    this.#keep(stored);
    return this.#view(stored);
  }

  get(functionName: string, qualifier = '$LATEST'): FunctionUrlConfig {
    return this.#view(this.#existing(functionName, qualifier));
  }

  update(functionName: string, qualifier: string | undefined, input: unknown): FunctionUrlConfig {
    const old = this.#existing(functionName, qualifier ?? '$LATEST');
    const parsed = parseWith(updateSchema, input, subject);
    const next: Stored = { ...old, ...(parsed.authType ? { authType: parsed.authType } : {}), ...(parsed.cors ? { cors: Object.freeze(parsed.cors) } : {}), ...(parsed.invokeMode ? { invokeMode: parsed.invokeMode } : {}), lastModifiedTime: new Date().toISOString() };
    this.#keep(next);
    return this.#view(next);
  }

  delete(functionName: string, qualifier = '$LATEST'): void {
    const stored = this.#existing(functionName, qualifier);
    this.persist?.(`${functionName}:${stored.qualifier}`, undefined);
    this.#byKey.delete(`${functionName}:${stored.qualifier}`);
    this.#byId.delete(stored.urlId);
  }

  /** Every URL of a function (its deletion takes them with it). */
  deleteAll(functionName: string): void {
    for (const stored of [...this.#byKey.values()]) if (stored.functionName === functionName) this.delete(functionName, stored.qualifier);
  }

  /** The config a request's url id names, or undefined. */
  byId(urlId: string): FunctionUrlConfig | undefined {
    const stored = this.#byId.get(urlId);
    return stored && this.#view(stored);
  }

  #existing(functionName: string, qualifier: string): Stored {
    if (typeof qualifier !== 'string') throw new InvalidParameterValueException('qualifier', 'Expected `qualifier` to be a string');
    const stored = this.#byKey.get(`${functionName}:${qualifier}`);
    if (!stored) throw new ResourceNotFoundException('The resource you requested does not exist.');
    return stored;
  }

  #view(stored: Stored): FunctionUrlConfig {
    return Object.freeze({ ...stored, functionUrl: `${this.origin}/lambda-url/${stored.urlId}/` });
  }
}
