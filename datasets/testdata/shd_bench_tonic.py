# The peer's read path for SHD: what tonic.datasets.SHD.__getitem__ does for every sample (open the file,
# read spikes/times[i] and spikes/units[i] with h5py, build the (t, x, p) structured array with times × 1e6).
# Usage: shd_bench_tonic.py FILE. Prints events and seconds.
import sys, time
import numpy as np
import h5py

path = sys.argv[1]
dtype = np.dtype([("t", int), ("x", int), ("p", int)])
start = time.perf_counter()
with h5py.File(path, "r") as f:
    n = len(f["labels"])
total = 0
for i in range(n):
    f = h5py.File(path, "r")
    t, x = f["spikes/times"][i] * 1e6, f["spikes/units"][i]
    ev = np.zeros(len(t), dtype=dtype)
    ev["t"], ev["x"], ev["p"] = t, x, 1
    target = f["labels"][i].astype(int)
    total += len(ev)
    f.close()
print(total, time.perf_counter() - start)
