/** slabchunk's public API (test/index.test.ts snapshots it). */
export { SlabchunkError, type ErrorCode, type SlabchunkErrorOptions } from './core/errors.ts';
export { DTYPES, bytesPerElement, dtypeOf, typedArray, typedView, type DType, type TypedArray, type TypedArrayFor } from './core/dtype.ts';
export { gridShape, fortranIndex, fortranCoords, chunkBounds, type Order, type Vec3 } from './core/geometry.ts';
export type { ChunkRecord } from './stream/record.ts';
export { tobytes, type ImageArray } from './stream/tobytes.ts';
export { Chunker, planChunker, type ChunkerOptions, type ChunkerPlan, type Edge, type Endian } from './stream/chunker.ts';
export { ZarrSink, type SinkStats } from './zarr/sink.ts';
export { resolveSinkOptions, type ResolvedSinkOptions, type ZarrSinkOptions } from './zarr/sink-options.ts';
export { FileSystemStore, type FileSystemStoreOptions } from './zarr/stores/filesystem.ts';
export type { Store } from './zarr/stores/types.ts';
export { convert, prepareConvert, type ConvertRunOptions, type PreparedConvert, type Progress, type Summary } from './ops/convert.ts';
export { CONVERT_OPTIONS, type ConvertOptions, type ResolvedConvertOptions } from './ops/options.ts';
export { inspectStore, type StoreInfo } from './ops/inspect.ts';
export { verifyStore, type VerifyOptions, type VerifyResult } from './ops/verify.ts';
export { exportStore, type ExportOptions } from './ops/export.ts';
export { describeInput, type DescribedInput, type PlaneSelection, type VolumeInput } from './input/index.ts';
