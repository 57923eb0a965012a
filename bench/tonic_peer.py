"""The peer side of evtool's whole-command benchmark (bench/main.go): times tonic doing what an evtool
command does, on the same files, in the same run.

tonic is loaded from its source tree (TONIC_SRC, a clone of github.com/neuromorphs/tonic) without installing
it: only tonic.io, tonic.slicers and tonic.functional are imported, which need nothing but NumPy. The work is
timed inside Python (min of --runs), so interpreter and NumPy start-up are not counted: the figure favours
tonic, never evtool.

Prints one JSON object: {"seconds": min wall time, "events": events read, "files": files read, "out": ...}.
"""

import argparse
import importlib
import json
import sys
import time
import types


def load_tonic(src):
    # A bare package object stands in for tonic/__init__.py, which imports every dataset and pbr.
    pkg = types.ModuleType("tonic")
    pkg.__path__ = [src + "/tonic"]
    sys.modules["tonic"] = pkg
    try:
        import typing_extensions  # noqa: F401
    except ImportError:
        import typing

        shim = types.ModuleType("typing_extensions")
        shim.Protocol, shim.runtime_checkable = typing.Protocol, typing.runtime_checkable
        sys.modules["typing_extensions"] = shim
    io = importlib.import_module("tonic.io")
    functional = importlib.import_module("tonic.functional")
    return io, functional


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tonic", required=True, help="tonic source tree")
    ap.add_argument("--case", required=True, choices=["read", "frames", "denoise"])
    ap.add_argument("--list", required=True, help="file with one N-MNIST .bin path per line")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--width", type=int, default=34)
    ap.add_argument("--height", type=int, default=34)
    a = ap.parse_args()
    io, F = load_tonic(a.tonic)
    dtype = io.events_struct
    with open(a.list) as fh:
        paths = [line.strip() for line in fh if line.strip()]
    sensor = (a.width, a.height, 2)

    def once():
        n, out = 0, 0
        for p in paths:
            ev = io.read_mnist_file(p, dtype=dtype)  # what tonic.datasets.NMNIST.__getitem__ does
            n += len(ev)
            if a.case == "frames":  # tonic.transforms.ToFrame(sensor_size, n_time_bins=10)
                out += F.to_frame_numpy(ev, sensor, n_time_bins=10).size
            elif a.case == "denoise":  # tonic.transforms.Denoise(filter_time=10000)
                out += len(F.denoise_numpy(ev, filter_time=10000))
        return n, out

    best = None
    for _ in range(a.runs):
        t0 = time.perf_counter()
        n, out = once()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    print(json.dumps({"seconds": best, "events": n, "files": len(paths), "out": out}))


if __name__ == "__main__":
    main()
