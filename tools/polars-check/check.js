// Reads an evtool Arrow IPC or Parquet file (by its .parquet extension) with nodejs-polars (an Arrow and
// Parquet implementation independent of arrow-go) and prints what it found as one JSON line: rows, columns
// with their dtypes, summed list lengths and sums, and the boxes of a boxes column (the rows holding
// boxes with their counts, and every box as [t, x, y, w, h, class, track, confidence]).
const pl = require("nodejs-polars");
const path = process.argv[2];
// readIPC treats a string as a path only for the .ipc extension, so hand it the bytes.
const bytes = require("fs").readFileSync(path);
const df = path.endsWith(".parquet") ? pl.readParquet(bytes) : pl.readIPC(bytes);
const out = { rows: df.height, columns: df.columns, dtypes: df.dtypes.map(String) };
if (df.columns.includes("label")) {
  // dataset layout: one row per sample, list columns
  const ev = df.select("t", "x").explode(["t", "x"]).dropNulls();
  out.events = ev.height;
  out.labels = df.getColumn("label").toArray().map((v) => (v === null ? null : Number(v)));
  out.ids = df.getColumn("id").toArray();
  out.sum_x = Number(ev.getColumn("x").sum());
  out.sum_t = [String(ev.getColumn("t").sum())];
} else {
  out.events = df.height;
  out.sum_x = Number(df.getColumn("x").sum());
  out.sum_t = [String(df.getColumn("t").sum())];
}
if (df.columns.includes("boxes")) {
  // the optional boxes column: a list of structs per row (null in recording rows without boxes)
  const lens = df.select(pl.col("boxes").lst.lengths().alias("n")).getColumn("n").toArray();
  out.box_rows = lens.map((v, i) => [i, v === null ? null : Number(v)]).filter(([, v]) => v);
  const b = df.select("boxes").explode("boxes").dropNulls().unnest("boxes");
  out.box_fields = b.columns;
  out.boxes = b.rows().map((r) => r.map((v) => (typeof v === "bigint" ? String(v) : v)));
}
console.log(JSON.stringify(out));
