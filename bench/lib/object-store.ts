/** The local S3 server scripts/object-store/start.sh runs, as the benches and the tests reach it. */
import { readFileSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/zarr/stores/s3-client.ts';

/** The variables of an env file start.sh wrote (`export K=V` lines; quotes around a value dropped). */
export function readServerEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

/** A client of the server `env` names, with its credentials given outright (not the caller's environment). */
export function serverClient(env: Readonly<Record<string, string>>): S3Client {
  return s3Client({
    endpoint: env.AWS_ENDPOINT_URL!,
    region: env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
}
