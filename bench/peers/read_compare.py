"""Independent reader: opens a Zarr store with tensorstore (v3 or v2) or zarr-python 2 (v2) and compares
it, chunk by chunk, to the raw volume it was written from. tensorstore also reads `s3://BUCKET/PREFIX` stores
through its own `s3` kvstore, no download: the endpoint, credentials and region come from the environment the AWS
tools use (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), the endpoint addressed
path-style; conditional writes are off (this reader writes nothing, and Swift's s3api refuses them).

Exit 0 when every voxel matches; 1 naming the first differing chunk key (and the first differing voxel);
2 when the store cannot be opened by the chosen reader (wrong format, reader missing). Prints one JSON line.
"""
import argparse
import json
import os
import sys

import numpy as np

from common import DTYPES, array_shape, vec3


def is_s3(store):
    return store.startswith("s3://")


def kvstore(store):
    """The tensorstore kvstore spec of a folder, or of `s3://bucket/prefix` on the environment's endpoint."""
    if not is_s3(store):
        return {"driver": "file", "path": os.path.abspath(store)}
    bucket, _, prefix = store[len("s3://"):].partition("/")
    spec = {
        "driver": "s3",
        "bucket": bucket,
        "path": prefix.rstrip("/") + "/" if prefix else "",
        "aws_region": os.environ.get("AWS_REGION", "us-east-1"),
        # tensorstore 0.1.85 from pip sends conditional writes to any endpoint; Swift's s3api answers them 501.
        "use_conditional_write": False,
    }
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        spec["endpoint"] = endpoint
    return spec


def context(store):
    """The tensorstore context a store needs: credentials from the environment for a bucket."""
    return {"aws_credentials": {"type": "environment"}} if is_s3(store) else {}


def store_format(store):
    """3 when the store holds a zarr.json, else 2."""
    if not is_s3(store):
        return 3 if os.path.exists(os.path.join(store, "zarr.json")) else 2
    import tensorstore as ts
    keys = ts.KvStore.open({**kvstore(store), "context": context(store)}).result()
    return 3 if keys.read("zarr.json").result().state == "value" else 2


def open_tensorstore(store, fmt):
    import tensorstore as ts
    driver = "zarr3" if fmt == 3 else "zarr"
    arr = ts.open({"driver": driver, "kvstore": kvstore(store), "context": context(store)}, open=True, read=True).result()
    chunk = arr.chunk_layout.read_chunk.shape
    return arr, tuple(arr.shape), tuple(chunk), lambda sel: arr[sel].read().result()


def open_zarr2(store, fmt):
    if is_s3(store):
        raise RuntimeError("the zarr-python 2 reader reads folders only")
    if fmt != 2:
        raise RuntimeError("zarr-python 2 reads Zarr v2 only")
    import zarr
    if not zarr.__version__.startswith("2."):
        raise RuntimeError(f"need zarr-python 2, found {zarr.__version__}")
    arr = zarr.open_array(zarr.DirectoryStore(store, dimension_separator="/"), mode="r")
    return arr, tuple(arr.shape), tuple(arr.chunks), lambda sel: arr[sel]


def chunk_key(fmt, coords):
    return ("c/" if fmt == 3 else "") + "/".join(str(c) for c in coords)


def compare(store, raw_path, shape3, dtype, order, reader):
    """Compares one store to its raw volume; returns (exit code, JSON-able result)."""
    head = {"store": store, "reader": reader}
    try:
        fmt = store_format(store)
        head["format"] = fmt
        _, shape, chunk, read = (open_tensorstore if reader == "tensorstore" else open_zarr2)(store, fmt)
    except Exception as e:  # the reader's own message says why it cannot open the store
        return 2, {**head, "ok": False, "error": f"cannot open: {e}"}
    # The raw file in C order over the store's axes is exactly the array (DESIGN.md axis mapping).
    expected_shape = array_shape(shape3, order)
    if shape != expected_shape:
        return 1, {**head, "ok": False, "error": f"store shape {list(shape)} != expected {list(expected_shape)}"}
    raw = np.memmap(raw_path, dtype=np.dtype(DTYPES[dtype]), mode="r", shape=expected_shape)

    # Compare one row of chunks (along the slowest axis) at a time: few reads, bounded memory.
    chunks = 0
    for a0 in range(0, shape[0], chunk[0]):
        a1 = min(shape[0], a0 + chunk[0])
        got = np.asarray(read(np.s_[a0:a1]))
        want = np.asarray(raw[a0:a1])
        if got.dtype != want.dtype:
            return 1, {**head, "ok": False, "error": f"dtype {got.dtype} != {want.dtype}"}
        if not np.array_equal(got.view(np.uint8), want.view(np.uint8)):
            for b0 in range(0, shape[1], chunk[1]):
                for c0 in range(0, shape[2], chunk[2]):
                    g = got[:, b0:b0 + chunk[1], c0:c0 + chunk[2]]
                    w = want[:, b0:b0 + chunk[1], c0:c0 + chunk[2]]
                    if not np.array_equal(g.view(np.uint8), w.view(np.uint8)):
                        diff = np.argwhere(g.view(np.uint8).reshape(*g.shape, -1) != w.view(np.uint8).reshape(*w.shape, -1))[0][:3]
                        index = [int(a0 + diff[0]), int(b0 + diff[1]), int(c0 + diff[2])]
                        key = chunk_key(fmt, (a0 // chunk[0], b0 // chunk[1], c0 // chunk[2]))
                        return 1, {**head, "ok": False, "chunk": key, "storeIndex": index,
                                   "got": g[tuple(diff)].item(), "want": w[tuple(diff)].item()}
        chunks += len(range(0, shape[1], chunk[1])) * len(range(0, shape[2], chunk[2]))
    return 0, {**head, "ok": True, "chunks": chunks}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("store", nargs="?")
    p.add_argument("raw", nargs="?")
    p.add_argument("--shape", type=vec3, help="X,Y,Z of the raw volume")
    p.add_argument("--dtype", choices=sorted(DTYPES))
    p.add_argument("--order", choices=("F", "C"), default="F", help="layout of the raw file")
    p.add_argument("--reader", choices=("tensorstore", "zarr"), default="tensorstore")
    p.add_argument("--batch", help="JSON file: a list of {store, raw, shape, dtype, order}; one result line each, "
                                   "exit status the worst of them (one interpreter start for many small stores)")
    args = p.parse_args()
    if args.batch:
        with open(args.batch) as f:
            jobs = json.load(f)
    elif args.store and args.raw and args.shape and args.dtype:
        jobs = [{"store": args.store, "raw": args.raw, "shape": args.shape, "dtype": args.dtype, "order": args.order}]
    else:
        p.error("give STORE RAW --shape --dtype, or --batch FILE")
    worst = 0
    for job in jobs:
        code, result = compare(job["store"], job["raw"], job["shape"], job["dtype"], job.get("order", "F"), args.reader)
        print(json.dumps(result), flush=True)
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
