"""Independent reader for stores in a bucket: tensorstore opens each `s3://BUCKET/PREFIX` store through its own
`s3` kvstore (no download) and compares it, one row of chunks at a time, with the raw volume it was written from,
as read_compare.py does for stores on disk.

The endpoint, credentials and region come from the environment the AWS tools use (AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION); the endpoint is addressed path-style (tensorstore does so
for any endpoint it is given). Conditional writes are off: this reader writes nothing, and S3-compatible services
such as Swift's s3api refuse them.

Input: --batch FILE, a JSON list of {store, raw, shape, dtype, order}. Output: one JSON line per store, as
read_compare.py prints ({store, ok, chunk?, storeIndex?, error?}); exit status 0 when every store matches, 1 when
one differs (naming its first differing chunk key), 2 when one cannot be opened.
"""
import argparse
import json
import os
import sys

import numpy as np

from common import DTYPES, array_shape
from read_compare import chunk_key


def kvstore(url):
    """The tensorstore kvstore spec of `s3://bucket/prefix` on the environment's endpoint."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an s3:// URL: {url}")
    bucket, _, prefix = url[len("s3://"):].partition("/")
    spec = {
        "driver": "s3",
        "bucket": bucket,
        "path": prefix.rstrip("/") + "/" if prefix else "",
        "aws_region": os.environ.get("AWS_REGION", "us-east-1"),
        "use_conditional_write": False,
    }
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        spec["endpoint"] = endpoint
    return spec


def open_store(url):
    """(format, array) of the Zarr array at `url`; v3 when the prefix holds a zarr.json, else v2."""
    import tensorstore as ts
    kv = kvstore(url)
    context = {"aws_credentials": {"type": "environment"}}
    keys = ts.KvStore.open({**kv, "context": context}).result()
    fmt = 3 if keys.read("zarr.json").result().state == "value" else 2
    arr = ts.open({"driver": "zarr3" if fmt == 3 else "zarr", "kvstore": kv, "context": context},
                  open=True, read=True).result()
    return fmt, arr


def compare(store, raw_path, shape3, dtype, order):
    """Compares one store in a bucket to its raw volume; returns (exit code, JSON-able result)."""
    head = {"store": store, "reader": "tensorstore-s3"}
    try:
        fmt, arr = open_store(store)
    except Exception as e:  # tensorstore's message says why (no such key, refused request, ...)
        return 2, {**head, "ok": False, "error": f"cannot open: {e}"}
    head["format"] = fmt
    shape = tuple(arr.shape)
    chunk = tuple(arr.chunk_layout.read_chunk.shape)
    expected_shape = array_shape(shape3, order)
    if shape != expected_shape:
        return 1, {**head, "ok": False, "error": f"store shape {list(shape)} != expected {list(expected_shape)}"}
    raw = np.memmap(raw_path, dtype=np.dtype(DTYPES[dtype]), mode="r", shape=expected_shape)
    chunks = 0
    for a0 in range(0, shape[0], chunk[0]):
        a1 = min(shape[0], a0 + chunk[0])
        got = np.asarray(arr[a0:a1].read().result())
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
                        return 1, {**head, "ok": False, "chunk": chunk_key(fmt, (a0 // chunk[0], b0 // chunk[1], c0 // chunk[2])),
                                   "storeIndex": [int(a0 + diff[0]), int(b0 + diff[1]), int(c0 + diff[2])],
                                   "got": g[tuple(diff)].item(), "want": w[tuple(diff)].item()}
        chunks += len(range(0, shape[1], chunk[1])) * len(range(0, shape[2], chunk[2]))
    return 0, {**head, "ok": True, "chunks": chunks}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--batch", required=True, help="JSON file: a list of {store, raw, shape, dtype, order}")
    args = p.parse_args()
    with open(args.batch) as f:
        jobs = json.load(f)
    worst = 0
    for job in jobs:
        code, result = compare(job["store"], job["raw"], job["shape"], job["dtype"], job.get("order", "F"))
        print(json.dumps(result), flush=True)
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
