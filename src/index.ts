/** slabchunk's public API. */
export { SlabchunkError, type ErrorCode, type SlabchunkErrorOptions } from './errors.ts';
export { DTYPES, bytesPerElement, dtypeOf, typedArray, typedView, type DType, type TypedArray, type TypedArrayFor } from './dtype.ts';
export { gridShape, fortranIndex, fortranCoords, chunkBounds, type Order, type Vec3 } from './geometry.ts';
export type { ChunkRecord } from './record.ts';
export { tobytes, type ImageArray } from './tobytes.ts';
export { Chunker, planChunker, type ChunkerOptions, type ChunkerPlan, type Edge, type Endian } from './chunker.ts';
export { ZarrSink, type ZarrSinkOptions, type SinkStats } from './sink/zarr.ts';
export { convert, prepareConvert, type ConvertRunOptions, type PreparedConvert, type Progress, type Summary } from './convert.ts';
export { CONVERT_OPTIONS, type ConvertOptions, type ResolvedConvertOptions } from './options.ts';
export { inspectStore, type StoreInfo } from './inspect.ts';
export { verifyStore, type VerifyOptions, type VerifyResult } from './verify.ts';
export { exportStore, type ExportOptions } from './export.ts';
