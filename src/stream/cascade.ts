/**
 * The pyramid's levels, slab by slab, in the one pass over level 0: each level keeps at most one slab of the level
 * above (the first of a pair it halves along z) and hands each slab it completes to the next level. Memory is one
 * carry slab per level, whatever the depth. Pure and synchronous: the caller decides where slabs go (rows to cut,
 * threads to run on).
 */
import { typedView, type DType, type TypedArray } from '../core/dtype.ts';
import { bytesPerElement } from '../core/dtype.ts';
import { downsampledPlane, downsampleSlab, type DownsampleMethod } from '../core/downsample.ts';
import type { PyramidLevel } from '../core/pyramid.ts';

/** Hears each slab a level completes: level ≥ 1, its z, its bytes (valid only during the call). */
export type SlabListener = (level: number, z: number, slab: Uint8Array) => void;

export interface Cascade {
  /** Level 0's slab `z` (slabs come in order, from 0). */
  push(slab: Uint8Array): void;
  /** After level 0's last slab: the carried slabs of odd depths become their levels' last slabs. */
  end(): void;
}

/** A cascade over `levels` (from `planPyramid`, level 0 first). */
export function pyramidCascade(levels: readonly PyramidLevel[], dtype: DType, method: DownsampleMethod, onSlab: SlabListener): Cascade {
  const size = bytesPerElement(dtype);
  const planeBytes = (l: number) => levels[l]!.shape[0] * levels[l]!.shape[1] * size;
  /** Per level ≥ 1: the slab of the level above waiting for its pair, and the next z this level writes. */
  const carry = levels.map((_, l) => (l === 0 ? null : { held: new Uint8Array(planeBytes(l - 1)), has: false, z: 0 }));
  const out = levels.map((_, l) => (l === 0 ? null : new Uint8Array(planeBytes(l))));
  const view = (bytes: Uint8Array): TypedArray => typedView(dtype, bytes.buffer, bytes.byteOffset, bytes.length / size);

  /** Reduces `slabs` of level `l - 1` into level `l`'s next slab, and passes it down. */
  const emit = (l: number, slabs: readonly Uint8Array[]): void => {
    const { factor } = levels[l]!;
    const above = levels[l - 1]!.shape;
    const plane = [above[0], above[1]] as const;
    const target = out[l]!;
    const [ox, oy] = downsampledPlane(plane, factor[0] as 1 | 2, factor[1] as 1 | 2);
    if (ox * oy * size !== target.length) throw new Error(`level ${l}: a ${ox}×${oy} plane where the plan has ${levels[l]!.shape[0]}×${levels[l]!.shape[1]}`);
    downsampleSlab(method, dtype, slabs.map(view), plane, factor[0] as 1 | 2, factor[1] as 1 | 2, view(target));
    const state = carry[l]!;
    const z = state.z++;
    onSlab(l, z, target);
    if (l + 1 < levels.length) take(l + 1, target);
  };

  /** Level `l` receives a slab of level `l - 1`. */
  const take = (l: number, slab: Uint8Array): void => {
    const state = carry[l]!;
    if (levels[l]!.factor[2] === 1) {
      emit(l, [slab]);
      return;
    }
    if (!state.has) {
      state.held.set(slab);
      state.has = true;
      return;
    }
    state.has = false;
    emit(l, [state.held, slab]);
  };

  return {
    push(slab) {
      if (levels.length > 1) take(1, slab);
    },
    end() {
      // Level by level: a flushed slab may complete a pair one level down.
      for (let l = 1; l < levels.length; l++) {
        const state = carry[l]!;
        if (state.has) {
          state.has = false;
          emit(l, [state.held]);
        }
      }
    },
  };
}
