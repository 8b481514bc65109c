import { invalid } from './errors.ts';

/** The element types slabchunk reads and writes. Names are Zarr v3's data type names. */
export type DType =
  | 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32'
  | 'int64' | 'uint64' | 'float32' | 'float64';

/** The TypedArray that holds each dtype in memory (bool as one byte per element, as numpy). */
export interface TypedArrayFor {
  bool: Uint8Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  float32: Float32Array;
  float64: Float64Array;
}

export type TypedArray = TypedArrayFor[DType];

/** Bytes per element. */
export type ElementSize = 1 | 2 | 4 | 8;

interface DTypeInfo {
  readonly size: ElementSize;
  readonly ctor: { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray; new (length: number): TypedArray; readonly BYTES_PER_ELEMENT: number };
  /** Zarr v2 / numpy typestr without the byte-order character. */
  readonly v2: string;
}

const INFO: Record<DType, DTypeInfo> = {
  bool: { size: 1, ctor: Uint8Array, v2: 'b1' },
  int8: { size: 1, ctor: Int8Array, v2: 'i1' },
  uint8: { size: 1, ctor: Uint8Array, v2: 'u1' },
  int16: { size: 2, ctor: Int16Array, v2: 'i2' },
  uint16: { size: 2, ctor: Uint16Array, v2: 'u2' },
  int32: { size: 4, ctor: Int32Array, v2: 'i4' },
  uint32: { size: 4, ctor: Uint32Array, v2: 'u4' },
  int64: { size: 8, ctor: BigInt64Array, v2: 'i8' },
  uint64: { size: 8, ctor: BigUint64Array, v2: 'u8' },
  float32: { size: 4, ctor: Float32Array, v2: 'f4' },
  float64: { size: 8, ctor: Float64Array, v2: 'f8' },
};

/** Every dtype, in a stable order (tests iterate it). */
export const DTYPES: readonly DType[] = Object.keys(INFO) as DType[];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(INFO, value);
}

/** Checks a user-given dtype name, with the list of valid names in the error. */
export function parseDType(value: unknown): DType {
  if (isDType(value)) return value;
  throw invalid(`unknown dtype ${JSON.stringify(value)}; use one of ${DTYPES.join(', ')}`);
}

/** Swaps the byte order of every element of `bytes` in place (a big-endian input). */
export function swapElements(bytes: Buffer, elementSize: ElementSize): void {
  if (elementSize === 2) bytes.swap16();
  else if (elementSize === 4) bytes.swap32();
  else if (elementSize === 8) bytes.swap64();
}

export function bytesPerElement(dtype: DType): ElementSize {
  return INFO[dtype].size;
}

/** A TypedArray of `dtype` viewing `length` elements of `buffer` from `byteOffset` (no copy). */
export function typedView<D extends DType>(dtype: D, buffer: ArrayBufferLike, byteOffset = 0, length?: number): TypedArrayFor[D] {
  const { ctor, size } = INFO[dtype];
  const n = length ?? Math.floor((buffer.byteLength - byteOffset) / size);
  return new ctor(buffer, byteOffset, n) as TypedArrayFor[D];
}

/** A new zeroed TypedArray of `dtype` with `length` elements. */
export function typedArray<D extends DType>(dtype: D, length: number): TypedArrayFor[D] {
  return new INFO[dtype].ctor(length) as TypedArrayFor[D];
}

/** Zarr v2 `dtype` string, e.g. `<u2`, `|u1`, `|b1`. Multi-byte types are little-endian, as we write them. */
export function zarrV2DType(dtype: DType): string {
  const { size, v2 } = INFO[dtype];
  return (size === 1 ? '|' : '<') + v2;
}

/** Zarr v3 `data_type` name (identical to ours). */
export function zarrV3DType(dtype: DType): string {
  return dtype;
}

/** Parses a Zarr v2 dtype string (`<u2`, `|b1`, ...). Big-endian types report `littleEndian: false`. */
export function fromZarrV2DType(value: string): { dtype: DType; littleEndian: boolean } {
  const body = value.slice(1);
  const found = DTYPES.find((d) => INFO[d].v2 === body);
  if (!found || !'<>|'.includes(value[0] ?? '')) {
    throw invalid(`unsupported Zarr v2 dtype ${JSON.stringify(value)}; slabchunk handles ${DTYPES.map(zarrV2DType).join(', ')}`);
  }
  return { dtype: found, littleEndian: value[0] !== '>' };
}

/**
 * The dtype of a TypedArray. A Uint8Array is `uint8`: pass the dtype explicitly for `bool`.
 * Buffers (a Uint8Array subclass) are `uint8` too.
 */
export function dtypeOf(array: ArrayBufferView): DType {
  if (array instanceof Uint8Array || array instanceof Uint8ClampedArray) return 'uint8';
  if (array instanceof Int8Array) return 'int8';
  if (array instanceof Int16Array) return 'int16';
  if (array instanceof Uint16Array) return 'uint16';
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof Uint32Array) return 'uint32';
  if (array instanceof BigInt64Array) return 'int64';
  if (array instanceof BigUint64Array) return 'uint64';
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  throw invalid(`cannot infer a dtype from ${array.constructor.name}; pass a TypedArray of one of ${DTYPES.join(', ')}`);
}

/**
 * The little-endian bytes of one element of `dtype` holding `value` (the fill value of a chunk).
 * Checks the value fits the dtype, so a fill of 300 for uint8 is an error, not a silent 44.
 */
export function fillBytes(dtype: DType, value: number | bigint | boolean = 0): Uint8Array {
  const size = INFO[dtype].size;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const bad = () => invalid(`fill value ${String(value)} does not fit dtype ${dtype}; give a value in its range`);
  if (dtype === 'bool') {
    if (value === true || value === 1 || value === 1n) out[0] = 1;
    else if (!(value === false || value === 0 || value === 0n)) throw bad();
    return out;
  }
  if (dtype === 'float32' || dtype === 'float64') {
    const n = Number(value);
    if (dtype === 'float32') view.setFloat32(0, n, true);
    else view.setFloat64(0, n, true);
    return out;
  }
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'boolean') big = value ? 1n : 0n;
  else if (Number.isInteger(value)) big = BigInt(value);
  else throw bad();
  const bits = BigInt(size * 8);
  const signed = dtype.startsWith('int');
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (big < min || big > max) throw bad();
  const wide = new DataView(new ArrayBuffer(8));
  wide.setBigUint64(0, BigInt.asUintN(64, big), true);
  return new Uint8Array(wide.buffer, 0, size);
}
