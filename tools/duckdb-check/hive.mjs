// Reads a folder of evtool Parquet shards in hive-style partitions (split=train/label=3/part-….parquet)
// as one table, as DuckDB users do, and prints one JSON object per partition: its key values, rows and
// events. formats/shards' tests run it.
//
// usage: node hive.mjs FOLDER KEY [KEY ...]
import { DuckDBInstance } from '@duckdb/node-api';

const [root, ...keys] = process.argv.slice(2);
if (!root || keys.length === 0 || keys.some((k) => !/^[a-z_][a-z0-9_]*$/.test(k))) {
  console.error('usage: node hive.mjs FOLDER KEY [KEY ...]');
  process.exit(2);
}
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const glob = "'" + (root + '/**/*.parquet').replaceAll("'", "''") + "'";
const cols = keys.map((k) => `CAST(${k} AS VARCHAR) AS ${k}`).join(', ');
const reader = await conn.runAndReadAll(`SELECT ${cols}, count(*) AS rows, sum(len(t)) AS events
    FROM read_parquet(${glob}, hive_partitioning = true) GROUP BY ALL ORDER BY ALL`);
for (const row of reader.getRowObjectsJson()) {
  console.log(JSON.stringify(row));
}
