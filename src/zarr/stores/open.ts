/**
 * A store from the location a user gives: an `s3://bucket/prefix` URL is an object store, anything else a folder.
 * Every command and the engine's worker threads open stores here, so both kinds are handled alike everywhere.
 */
import { FileSystemStore } from './filesystem.ts';
import { isS3Url, S3Store } from './s3.ts';
import type { Store } from './types.ts';

/** How to reach and write a store: what the options say, passed on to every thread that opens it. */
export interface StoreSettings {
  /** Flush filesystem writes to the disk (ignored by object stores, whose PUTs are durable when they return). */
  readonly fsync?: boolean | undefined;
  /** An S3-compatible service's endpoint for `s3://` locations. */
  readonly s3Endpoint?: string | undefined;
}

/** The store at `location`: an {@link S3Store} for `s3://` URLs, else a {@link FileSystemStore}. */
export function storeAt(location: string, settings: StoreSettings = {}): Store {
  if (isS3Url(location)) return new S3Store(location, settings.s3Endpoint ? { endpoint: settings.s3Endpoint } : {});
  return new FileSystemStore(location, { fsync: settings.fsync === true });
}

/** Whether `location` names an object store rather than a folder. */
export const isRemote = (location: string): boolean => isS3Url(location);
