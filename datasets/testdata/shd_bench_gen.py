# Writes an SHD-like file (shd_train.h5: spikes/times float16 s and spikes/units uint16 as variable-length
# arrays, labels, extra/keys) of N samples with about MEAN spikes each, with h5py, for the benchmark.
# Usage: shd_bench_gen.py OUTDIR N MEAN. Prints the total number of spikes.
import sys
import numpy as np
import h5py

out, n, mean = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(1)
keys = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun"]
counts = rng.integers(mean // 2, mean * 3 // 2, n)
with h5py.File(out + "/shd_train.h5", "w") as f:
    ds = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.dtype("f2")))
    du = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.dtype("<u2")))
    for i in range(n):
        m = int(counts[i])
        ds[i] = np.sort(rng.random(m)).astype("f2")
        du[i] = rng.integers(0, 700, m).astype("<u2")
    f["labels"] = rng.integers(0, 20, n).astype("<u2")
    f["extra/keys"] = np.array([k.encode() for k in keys])
print(int(counts.sum()))
