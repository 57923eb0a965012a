// Reads a folder of evtool Parquet shards in hive-style partitions (split=train/label=3/part-….parquet)
// as one lazy table with polars' scanParquet, and prints one JSON object per partition: its key values,
// rows and events. formats/shards' tests run it.
//
// usage: node hive.js FOLDER KEY [KEY ...]
const pl = require("nodejs-polars");

const [root, ...keys] = process.argv.slice(2);
if (!root || keys.length === 0) {
  console.error("usage: node hive.js FOLDER KEY [KEY ...]");
  process.exit(2);
}
(async () => {
  const lf = pl.scanParquet(root + "/**/*.parquet", { hivePartitioning: true });
  const df = await lf
    .groupBy(keys)
    .agg(pl.len().alias("rows"), pl.col("t").list.lengths().sum().alias("events"))
    .sort(keys)
    .collect();
  for (const row of df.toRecords()) {
    const out = {};
    for (const k of keys) out[k] = row[k] === null ? null : String(row[k]);
    out.rows = String(row.rows);
    out.events = String(row.events);
    console.log(JSON.stringify(out));
  }
})().catch((e) => {
  console.error(String(e));
  process.exit(1);
});
