/**
 * The S3 client every S3 store and input shares, configured the way the AWS CLI and SDKs find things — the SDK's
 * default chains for credentials, region and endpoint — plus what S3-compatible servers need (path-style
 * addressing on a custom endpoint, Content-MD5 on batched deletes), and the short, actionable messages slabchunk
 * gives for the SDK's errors.
 */
import { createHash } from 'node:crypto';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SlabchunkError, messageOf, type ErrorCode } from '../../core/errors.ts';

/** Attempts per request (the first and 5 retries) before a throttled or failing request is given up. */
export const S3_MAX_ATTEMPTS = 6;

/** The region when neither the environment nor a profile names one (what the AWS CLI assumes for S3). */
export const S3_DEFAULT_REGION = 'us-east-1';

export interface S3ClientOptions {
  /**
   * The service's URL (`--s3-endpoint`), e.g. `http://127.0.0.1:9000` for MinIO; default the SDK's own choice:
   * `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else AWS S3 in the region.
   */
  readonly endpoint?: string | undefined;
  /** The region; default the SDK's chain (`AWS_REGION`, the profile's `region`), else us-east-1. */
  readonly region?: string | undefined;
  /** Fixed credentials instead of the SDK's default chain (environment, profiles, SSO, instance roles). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string } | undefined;
}

/** The endpoint given in the environment (the S3-specific variable first), as the SDK reads it. */
function endpointFromEnv(): string | undefined {
  if (/^true$/i.test(process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '')) return undefined;
  return process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
}

/**
 * Constructs an S3Client without the SDK's NodeVersionSupportWarning. Releases of the SDK print it once per process
 * on Node < 22 (from `emitWarningIfUnsupportedVersion` in `@aws-sdk/core/client`, called while a client's runtime
 * config is built), announcing that releases after January 2027 need Node 22. The version here is pinned, so the
 * warning says nothing a slabchunk user can act on, and it lands in the middle of CLI output. The SDK's own switch
 * `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true` silences it; it is read only during construction, so it
 * is set just for that and restored, and never leaks into the environment of processes we spawn. Every other
 * warning of the process is untouched.
 */
function quietClient(config: S3ClientConfig): S3Client {
  const name = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  const before = process.env[name];
  process.env[name] = 'true';
  try {
    return new S3Client(config);
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}

/**
 * Swift's s3api (2.30, and other older S3-compatible servers) refuses a batched DeleteObjects without a
 * `Content-MD5` header, which the SDK no longer sends (it sends a CRC32 checksum instead: aws-sdk-js-v3 issue 6920).
 * AWS accepts both, so the header is added for every server. Runs at the build step, before the request is signed.
 */
function addContentMd5(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown } | undefined;
      if (context.commandName === 'DeleteObjectsCommand' && request?.headers && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'slabchunkContentMd5', override: true },
  );
}

/**
 * An S3Client found the way every AWS tool finds one: credentials, region and endpoint from the SDK's default
 * chains (environment variables, `~/.aws/config` and `credentials`, `AWS_PROFILE`, SSO, instance roles), `endpoint`
 * first when given. With a custom endpoint (given, or `AWS_ENDPOINT_URL[_S3]`) addressing is path-style
 * (`endpoint/bucket/key`), which every S3-compatible service accepts and which needs no wildcard DNS. Retries are
 * the SDK's adaptive mode (backoff plus client-side rate limiting when throttled), at most {@link S3_MAX_ATTEMPTS}
 * attempts per request; a connection must open within 10 s, and a request that stays silent for 2 minutes fails.
 */
export function s3Client(options: S3ClientOptions = {}): S3Client {
  const endpoint = options.endpoint ?? endpointFromEnv();
  const config: S3ClientConfig = {
    retryMode: 'adaptive',
    maxAttempts: S3_MAX_ATTEMPTS,
    // An endpoint that never answers (a firewall dropping packets) fails the request instead of hanging the run;
    // the retries above then apply. The socket timeout is for silence, not for a long transfer.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(endpoint !== undefined ? { forcePathStyle: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  if (options.region !== undefined) {
    config.region = options.region;
  } else {
    // The SDK's own region chain, asked per request; where it finds none it throws "Region is missing" — the AWS
    // CLI's default instead. A throwaway client lends its resolved chain (no I/O until asked).
    const chain = quietClient({}).config.region;
    config.region = () => chain().then((region) => region || S3_DEFAULT_REGION, () => S3_DEFAULT_REGION);
  }
  const client = quietClient(config);
  addContentMd5(client);
  return client;
}

/** What an SDK error carries that we look at. */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $retryable?: unknown;
}

/** The HTTP status of an SDK error, if the server answered. */
export function statusOf(error: unknown): number | undefined {
  return (error as SdkError | null)?.$metadata?.httpStatusCode;
}

/** True for "no such key" (404 on a GET or HEAD of an object); false for a missing bucket. */
export function isNoSuchKey(error: unknown): boolean {
  const e = error as SdkError | null;
  return e?.name === 'NoSuchKey' || (e?.name === 'NotFound' && statusOf(error) === 404);
}

/** Codes of Node network errors that mean the endpoint was not reached at all. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** The endpoint a client talks to, for messages. */
async function endpointOf(client: S3Client): Promise<string> {
  try {
    const endpoint = await client.config.endpoint?.();
    if (endpoint) return `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}${endpoint.path === '/' ? '' : endpoint.path}`;
  } catch {
    // Fall through to the generic name.
  }
  return 'the AWS S3 endpoint';
}

/**
 * What an SDK error means for the user, short, with what to do: wrong credentials name the variables and profile
 * files, a missing bucket says to create it, an unreachable endpoint names it.
 */
export async function describeS3Error(error: unknown, context: { client: S3Client; bucket: string; key?: string | undefined }): Promise<string> {
  const e = (error ?? {}) as SdkError;
  const name = e.name ?? 'Error';
  const status = statusOf(error);
  const attempts = e.$metadata?.attempts;
  if (name === 'NoSuchBucket' || (status === 404 && name === 'NotFound' && context.key === undefined)) {
    return `bucket ${context.bucket} does not exist; create it (e.g. \`aws s3 mb s3://${context.bucket}\`) or fix the URL`;
  }
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'CredentialsProviderError'].includes(name)) {
    return `credentials refused or missing (${name}); check ${CREDENTIAL_SOURCES}`;
  }
  if (name === 'AccessDenied' || status === 403) {
    // A HEAD's 403 has no body: unknown credentials and missing permissions look the same.
    return `access denied (${status ?? name}); check ${CREDENTIAL_SOURCES}, and that they may use bucket ${context.bucket}`;
  }
  if (UNREACHABLE.has(e.code ?? '') || UNREACHABLE.has(name) || name === 'TimeoutError') {
    return `cannot reach ${await endpointOf(context.client)} (${e.code ?? name}); check --s3-endpoint / AWS_ENDPOINT_URL and that the service is running`;
  }
  if (status !== undefined && status >= 500) {
    return `the server failed (${status} ${name})${attempts ? ` after ${attempts} attempts` : ''}: ${messageOf(error)}`;
  }
  return `${name}${status ? ` (${status})` : ''}: ${messageOf(error)}`;
}

/** Where the SDK's default chain finds credentials, for messages. */
const CREDENTIAL_SOURCES = 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_PROFILE and its entry in ~/.aws/credentials or ~/.aws/config';

/**
 * An SDK error as a short SlabchunkError ({@link describeS3Error}); `what` says which operation on which object,
 * e.g. "could not write c/0/0/0 in s3://b/brain.zarr". A SlabchunkError is returned as it is.
 */
export async function s3Error(error: unknown, code: ErrorCode, what: string, context: { client: S3Client; bucket: string; key?: string | undefined }): Promise<SlabchunkError> {
  if (error instanceof SlabchunkError) return error;
  const why = await describeS3Error(error, context);
  return new SlabchunkError(code, `${what}: ${why}`, { cause: error, ...(context.key !== undefined ? { key: context.key } : {}) });
}
