/**
 * The documents a store holds besides its chunks — the Zarr metadata and `.slabchunk/job.json` (how the input was
 * read where the metadata cannot say) — and joining a store that already has them: parts of one job, and resumed
 * runs, must have written byte-identical ones.
 */
import { SlabchunkError, wrapError } from '../core/errors.ts';
import type { ZarrFormat } from '../core/layout.ts';
import { buildGroupMetadata, buildMetadata, type ArrayConfig } from './metadata.ts';
import type { Store } from './stores/types.ts';

const JOB_KEY = '.slabchunk/job.json';

/** Every document a sink writes before its chunks: the Zarr metadata, and the job record when given. */
export function storeDocs(config: ArrayConfig, job?: Readonly<Record<string, unknown>>): Record<string, string> {
  const docs = buildMetadata(config);
  if (job) docs[JOB_KEY] = `${JSON.stringify(job, null, 2)}\n`;
  return docs;
}

/**
 * Every document of an OME-Zarr pyramid: the group's (its attributes hold the multiscales), each level's array
 * metadata under the level's folder, and the job record.
 */
export function pyramidDocs(
  zarrFormat: ZarrFormat, groupAttributes: Readonly<Record<string, unknown>>, levels: readonly { readonly path: string; readonly config: ArrayConfig }[],
  job: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const docs = buildGroupMetadata(zarrFormat, groupAttributes);
  for (const { path, config } of levels) {
    for (const [key, text] of Object.entries(buildMetadata(config))) docs[`${path}/${key}`] = text;
  }
  docs[JOB_KEY] = `${JSON.stringify(job, null, 2)}\n`;
  return docs;
}

/** Documents already in `store` must be byte-identical to `docs`, else this run's options differ from the store's (ESTORE). */
export async function checkJoinable(store: Store, docs: Readonly<Record<string, string>>): Promise<void> {
  for (const [key, text] of Object.entries(docs)) {
    const existing = await store.get(key).catch((error: unknown) => {
      throw wrapError(error, 'EREAD', `could not read ${key} in ${store.location}`, { key });
    });
    if (existing !== undefined && !Buffer.from(existing).equals(Buffer.from(text))) {
      throw new SlabchunkError('ESTORE', `${store.location} was written with other options (its ${key} differs from this run's); `
        + 'use the same --shape, --dtype, --chunk, --shard, --codec, --zarr-format, --fill, --input-order, --endian, --header, --channel and --time, or another store', { key });
    }
  }
}
