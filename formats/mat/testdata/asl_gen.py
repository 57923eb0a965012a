# Writes ASL-DVS-like .mat files with scipy (ts, x, y, pol column vectors of doubles, compressed as
# MATLAB does by default, and uncompressed) and prints the events as JSON. Usage: asl_gen.py OUTDIR
import json, sys
import numpy as np
import scipy.io as sio

out = sys.argv[1]
rng = np.random.default_rng(3)
n = 4000
ts = np.cumsum(rng.integers(0, 300, n)).astype(np.float64) + 123456789
x = rng.integers(0, 240, n).astype(np.float64)
y = rng.integers(0, 180, n).astype(np.float64)
pol = rng.integers(0, 2, n).astype(np.float64)
v = {"ts": ts.reshape(-1, 1), "x": x.reshape(-1, 1), "y": y.reshape(-1, 1), "pol": pol.reshape(-1, 1)}
sio.savemat(f"{out}/asl_z.mat", v, do_compression=True)
sio.savemat(f"{out}/asl.mat", v)
sio.savemat(f"{out}/asl_v4.mat", v, format="4")
# a struct of columns, as N-Caltech/EBSSA-style MATLAB exports hold them
sio.savemat(f"{out}/td.mat", {"TD": {"ts": ts.reshape(-1, 1), "x": x.reshape(-1, 1), "y": y.reshape(-1, 1), "p": pol.reshape(-1, 1)}})
json.dump({"t": ts.astype(np.int64).tolist(), "x": x.astype(int).tolist(), "y": y.astype(int).tolist(), "p": pol.astype(int).tolist()}, sys.stdout)
