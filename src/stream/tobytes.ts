/**
 * In-memory chunking with `fastremap.tobytes` semantics: cut an image into equal chunks and return
 * each chunk's bytes, in Fortran grid order.
 */
import { axesByStride, copyBlock } from '../core/copy.ts';
import { bytesPerElement, dtypeOf, type TypedArray } from '../core/dtype.ts';
import { invalid } from '../core/errors.ts';
import {
  checkVec3, denseStrides, divides, formatVec3, fortranIndex, gridShape, parseOrder, product, type Order, type Vec3,
} from '../core/geometry.ts';

/**
 * Bytes per copy when walking slice by slice: thick enough that a copy call's fixed cost is small
 * against its bytes, thin enough that one row of slices of the source stays in L2.
 */
const SLICE_BYTES = 16384;

/** An image in memory: `data` viewed as `shape` elements, strided (in elements) or dense in `order`. */
export interface ImageArray {
  readonly data: TypedArray;
  /** `[X, Y, Z]`. */
  readonly shape: Vec3;
  /** Element strides along x, y, z (may be negative); when given, `order` is ignored. */
  readonly stride?: Vec3;
  /** Element index in `data` of voxel (0, 0, 0); default 0. */
  readonly offset?: number;
  /** Layout of a dense `data` when `stride` is absent: 'C' (z fastest, numpy's default) or 'F'. */
  readonly order?: Order;
}

/**
 * Splits `image` into chunks of `chunkSize` and returns each chunk's bytes in `order`, listed in
 * Fortran grid order (`gx + GX*(gy + GY*gz)`). Each buffer equals numpy's
 * `image[x0:x1, y0:y1, z0:z1].tobytes(order)`. The chunk size must divide the shape evenly;
 * an empty image gives `[]`.
 */
export function tobytes(image: ImageArray, chunkSize: Vec3, order: Order = 'C'): Buffer[] {
  const outOrder = parseOrder(order);
  if (typeof image !== 'object' || image === null || !ArrayBuffer.isView(image.data)) {
    throw invalid('image must be an object { data: TypedArray, shape: [x, y, z] }');
  }
  const es = bytesPerElement(dtypeOf(image.data));
  const shape = checkVec3('shape', image.shape, 0);
  const chunk = checkVec3('chunk_size', chunkSize, 1);
  const { stride, offset } = layout(image, shape);
  if (!divides(shape, chunk)) {
    throw invalid(`chunk_size ${formatVec3(chunk)} must evenly divide the image shape ${formatVec3(shape)}`);
  }
  if (product(shape) === 0) return [];

  const data = image.data;
  const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const grid = gridShape(shape, chunk);
  const chunkBytes = product(chunk) * es;
  const count = product(grid);
  // One allocation per chunk, not one for all: malloc recycles chunk-sized blocks between calls,
  // while a single volume-sized block is a fresh mmap whose page faults cost more than the copy.
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(Buffer.allocUnsafe(chunkBytes));

  // Walk the source in its own memory order so reads stream instead of hopping between chunks:
  // S is the source's slowest axis, then Q, then P fastest. When S is also the slowest axis of the
  // chunk's byte order, every slice across S is a contiguous piece of its chunk, so the walk goes
  // slice by slice (a few elements thick) across all chunks of a row; otherwise chunk by chunk.
  const dstStrides = denseStrides(chunk, outOrder);
  const [P, Q, S] = axesByStride(stride);
  const thin = S === (outOrder === 'F' ? 2 : 0);
  const sliceBytes = chunk[P] * chunk[Q] * es;
  const step = thin ? Math.max(1, Math.min(chunk[S], Math.floor(SLICE_BYTES / sliceBytes))) : chunk[S];
  const block: [number, number, number] = [chunk[0], chunk[1], chunk[2]];
  const at: [number, number, number] = [0, 0, 0];
  for (let gs = 0; gs < grid[S]; gs++) {
    at[S] = gs;
    for (let s0 = 0; s0 < chunk[S]; s0 += step) {
      block[S] = Math.min(step, chunk[S] - s0);
      for (let gq = 0; gq < grid[Q]; gq++) {
        at[Q] = gq;
        for (let gp = 0; gp < grid[P]; gp++) {
          at[P] = gp;
          const index = fortranIndex(at, grid);
          let first = offset + s0 * stride[S];
          for (let a = 0; a < 3; a++) first += at[a] * chunk[a] * stride[a];
          copyBlock(
            { data: out[index], offset: s0 * dstStrides[S] * es, strides: dstStrides },
            { data: src, offset: first * es, strides: stride },
            block,
            es,
          );
        }
      }
    }
  }
  return out;
}

/** The element strides and offset of `image`, checked to stay inside `data`. */
function layout(image: ImageArray, shape: Vec3): { stride: Vec3; offset: number } {
  const length = image.data.length;
  if (image.stride === undefined) {
    if (image.offset !== undefined && image.offset !== 0) {
      throw invalid(`offset ${String(image.offset)} needs an explicit stride; a dense image starts at element 0`);
    }
    const order = parseOrder(image.order ?? 'C', 'image.order');
    const need = product(shape);
    if (length !== need) {
      throw invalid(
        `image data holds ${length} elements but shape ${formatVec3(shape)} needs ${need}; pass a matching shape or a stride`,
        { expected: need, actual: length },
      );
    }
    return { stride: denseStrides(shape, order), offset: 0 };
  }
  const st = image.stride as unknown;
  if (!Array.isArray(st) || st.length !== 3 || !st.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) {
    throw invalid(`stride must be 3 integers (elements, may be negative). Got: ${String(st)}`);
  }
  const stride: Vec3 = [st[0], st[1], st[2]];
  const offset = image.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw invalid(`offset must be a non-negative integer (elements). Got: ${String(offset)}`);
  }
  if (product(shape) === 0) return { stride, offset };
  let lo = offset, hi = offset;
  for (let a = 0; a < 3; a++) {
    const reach = (shape[a] - 1) * stride[a];
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  if (lo < 0 || hi >= length) {
    throw invalid(
      `shape ${formatVec3(shape)} with stride ${formatVec3(stride)} and offset ${offset} reaches elements ${lo}..${hi}, ` +
        `outside data of ${length} elements`,
      { expected: hi + 1, actual: length },
    );
  }
  return { stride, offset };
}
