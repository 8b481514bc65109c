/** The input-size check `convert` runs before it creates anything, and the hints it gives when sizes disagree. */
import { DTYPES, bytesPerElement, type DType } from '../core/dtype.ts';
import { SlabchunkError } from '../core/errors.ts';
import { formatShape, product, slabBytes, volumeBytes, type Vec3 } from '../core/geometry.ts';

/** Bytes an input of this geometry must hold, header included. */
export function expectedInputBytes(shape: Vec3, dtype: DType, header: number): number {
  return header + volumeBytes(shape, bytesPerElement(dtype));
}

/**
 * Shapes, dtypes or headers that would make `actual` bytes consistent, nearest first:
 * another dtype for the same shape, another depth Z for the same X, Y and dtype, or a header.
 */
export function sizeHints(actual: number, shape: Vec3, dtype: DType, header: number): string[] {
  const hints: string[] = [];
  const body = actual - header;
  const voxels = product(shape);
  if (body > 0 && voxels > 0 && body % voxels === 0) {
    const size = body / voxels;
    const fits = DTYPES.filter((d) => d !== 'bool' && d !== dtype && bytesPerElement(d) === size);
    if (fits.length > 0) hints.push(`--dtype ${fits.join(' or --dtype ')} (${size} bytes per voxel)`);
  }
  const slab = slabBytes(shape, bytesPerElement(dtype));
  if (body > 0 && slab > 0 && body % slab === 0 && body / slab !== shape[2]) {
    hints.push(`--shape ${shape[0]},${shape[1]},${body / slab} (${body / slab} slabs of ${formatShape([shape[0], shape[1], 1])})`);
  }
  const extra = actual - expectedInputBytes(shape, dtype, header);
  // Only a few extra bytes look like a header; a slab or more is a shape or dtype mistake.
  if (extra > 0 && extra < slab) hints.push(`--header ${header + extra} (if the first ${header + extra} bytes are a header)`);
  return hints;
}

/** Throws ESIZE naming both sizes and the hints, unless `actual` equals the expected size. */
export function checkInputSize(path: string, actual: number, shape: Vec3, dtype: DType, header: number): void {
  const expected = expectedInputBytes(shape, dtype, header);
  if (actual === expected) return;
  const hints = sizeHints(actual, shape, dtype, header);
  const headerText = header > 0 ? ` + ${header}-byte header` : '';
  throw new SlabchunkError(
    'ESIZE',
    `${path} holds ${actual} bytes, but shape ${formatShape(shape)} of ${dtype}${headerText} needs ${expected} bytes. ` +
      (hints.length > 0 ? `Would fit: ${hints.join('; ')}.` : 'Check --shape, --dtype and --header.'),
    { expected, actual },
  );
}
