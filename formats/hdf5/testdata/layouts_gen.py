# Writes HDF5 event files with h5py in the layouts of the datasets evtool reads (DSEC, ThreeET, SHD,
# compound arrays), plus files whose compression evtool refuses, and prints the events as JSON.
# Usage: layouts_gen.py OUTDIR
import json, sys
import numpy as np
import h5py

out = sys.argv[1]
rng = np.random.default_rng(5)
n = 50000
t = np.cumsum(rng.integers(0, 40, n)).astype(np.int64)
x = rng.integers(0, 640, n)
y = rng.integers(0, 480, n)
p = rng.integers(0, 2, n)
exp = {"t": t.tolist(), "x": x.tolist(), "y": y.tolist(), "p": p.tolist()}

# DSEC: /events/{x,y,p,t} (t in µs relative to /t_offset), /ms_to_idx, chunked and gzip'd
with h5py.File(f"{out}/dsec.h5", "w") as f:
    g = f.create_group("events")
    off = 1_600_000_000_000
    for name, a, dt in [("x", x, "<u2"), ("y", y, "<u2"), ("p", p, "u1"), ("t", t, "<u4")]:
        g.create_dataset(name, data=a.astype(dt), chunks=(4096,), compression="gzip", shuffle=True, maxshape=(None,))
    f["t_offset"] = np.int64(off)
    f["ms_to_idx"] = np.searchsorted(t, np.arange(0, t[-1] // 1000 + 1) * 1000).astype("<u8")
exp["dsec_offset"] = off
# ThreeET: /events as an (N, 4) integer array t, x, y, p
with h5py.File(f"{out}/threeet.h5", "w", libver="latest") as f:
    f.create_dataset("events", data=np.stack([t, x % 240, y % 180, p], axis=1).astype("<i8"), chunks=(2000, 4), compression="gzip")
# a compound array, as Prophesee's and other tools write
with h5py.File(f"{out}/compound.h5", "w") as f:
    c = np.zeros(n, dtype=[("x", "<u2"), ("y", "<u2"), ("p", "<i2"), ("t", "<i8")])
    c["x"], c["y"], c["p"], c["t"] = x, y, np.where(p == 1, 1, -1), t
    f.create_dataset("CD/events", data=c, chunks=(10000,), compression="gzip")
# float seconds at the root with custom names, for -O options
with h5py.File(f"{out}/custom.h5", "w") as f:
    f["stream/time_s"] = (t / 1e6).astype("<f8")
    f["stream/col"] = x.astype("<i4")
    f["stream/row"] = y.astype("<i4")
    f["stream/on"] = p.astype(bool)
# SHD: vlen spike trains (float16 seconds, uint16 units), labels, class names
k = 40
times = [np.sort(rng.random(int(m))).astype("f2") for m in rng.integers(0, 400, k)]
units = [rng.integers(0, 700, len(a)).astype("<u2") for a in times]
labels = rng.integers(0, 20, k).astype("<u2")
keys = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun"]
with h5py.File(f"{out}/shd.h5", "w") as f:
    dt = h5py.vlen_dtype(np.dtype("f2"))
    ds = f.create_dataset("spikes/times", (k,), dtype=dt)
    du = f.create_dataset("spikes/units", (k,), dtype=h5py.vlen_dtype(np.dtype("<u2")))
    for i in range(k):
        ds[i], du[i] = times[i], units[i]
    f["labels"] = labels
    f["extra/keys"] = np.array([s.encode() for s in keys])
    f["extra/speaker"] = rng.integers(0, 12, k).astype("<u2")
# SHD with faults: sample 1's third time is NaN; sample 2 has three times and two units
with h5py.File(f"{out}/shd_bad.h5", "w") as f:
    ds = f.create_dataset("spikes/times", (3,), dtype=h5py.vlen_dtype(np.dtype("f2")))
    du = f.create_dataset("spikes/units", (3,), dtype=h5py.vlen_dtype(np.dtype("<u2")))
    ds[0], du[0] = np.array([0.1, 0.2], "f2"), np.array([3, 4], "<u2")
    ds[1], du[1] = np.array([0.1, 0.2, np.nan, 0.4], "f2"), np.array([1, 2, 3, 4], "<u2")
    ds[2], du[2] = np.array([0.1, 0.2, 0.3], "f2"), np.array([1, 2], "<u2")
    f["labels"] = np.array([0, 1, 2], "<u2")
    f["extra/keys"] = np.array([s.encode() for s in keys])
exp["shd"] = {"times": [np.asarray(a, dtype=np.float64).tolist() for a in times], "units": [a.tolist() for a in units],
              "labels": labels.tolist(), "keys": keys}
# compression evtool refuses: lzf (h5py's own) and an optional zstd-filter entry in the pipeline
with h5py.File(f"{out}/lzf.h5", "w") as f:
    g = f.create_group("events")
    for name, a in [("t", t), ("x", x), ("y", y), ("p", p)]:
        g.create_dataset(name, data=a, chunks=(4096,), compression="lzf")
with h5py.File(f"{out}/zstd.h5", "w") as f:
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((1000,))
    dcpl.set_filter(32015, h5py.h5z.FLAG_OPTIONAL, (3,))
    g = f.create_group("events")
    for name, a in [("t", t), ("x", x), ("y", y), ("p", p)]:
        sid = h5py.h5s.create_simple((n,))
        did = h5py.h5d.create(g.id, name.encode(), h5py.h5t.STD_I64LE, sid, dcpl=dcpl)
        did.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(a.astype("<i8")))
json.dump(exp, sys.stdout)
