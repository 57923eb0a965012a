// Package crosscheck runs the independent readers under tools/ (DuckDB and nodejs-polars, from npm) on
// files evtool wrote, for tests: evtool's files must open in the tools its users open them with.
package crosscheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/evtool/evtool/internal/fixtures"
)

// Tool is one of the npm checkers under tools/.
type Tool struct {
	Dir     string // folder under tools/
	Script  string // the script node runs, in Dir
	Package string // the npm package the script needs, under Dir/node_modules
	What    string // the reader, for messages
}

var (
	// DuckDB reads Parquet files: tools/duckdb-check.
	DuckDB = Tool{Dir: "duckdb-check", Script: "check.mjs", Package: "@duckdb/node-api", What: "DuckDB"}
	// DuckDBWriter writes Parquet files with DuckDB, for evtool to read: tools/duckdb-check/write.mjs.
	DuckDBWriter = Tool{Dir: "duckdb-check", Script: "write.mjs", Package: "@duckdb/node-api", What: "DuckDB"}
	// Polars reads Arrow IPC and Parquet files with polars (Rust): tools/polars-check.
	Polars = Tool{Dir: "polars-check", Script: "check.js", Package: "nodejs-polars", What: "nodejs-polars"}
	// DuckDBHive and PolarsHive read a folder of hive-partitioned Parquet shards as one table and count
	// its rows and events per partition: tools/duckdb-check/hive.mjs, tools/polars-check/hive.js.
	DuckDBHive = Tool{Dir: "duckdb-check", Script: "hive.mjs", Package: "@duckdb/node-api", What: "DuckDB"}
	PolarsHive = Tool{Dir: "polars-check", Script: "hive.js", Package: "nodejs-polars", What: "nodejs-polars"}
	// PolarsWriter writes Arrow IPC files with polars, for evtool to read: tools/polars-check/write.js.
	PolarsWriter = Tool{Dir: "polars-check", Script: "write.js", Package: "nodejs-polars", What: "nodejs-polars"}
)

// Run runs the tool with args and decodes each line it prints as one JSON value into a new element of
// *out (a pointer to a slice). It skips the test when node or the tool's npm package is missing, and fails
// instead when $CI is set to anything: scripts/test.sh installs them and a skip would hide a regression.
func (tool Tool) Run(t testing.TB, out any, args ...string) {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(here), "..", "..", "tools", tool.Dir)
	missing := ""
	node, err := exec.LookPath("node")
	if err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", tool.Package)); err != nil {
		missing = tool.Package + " is not installed (npm install --prefix tools/" + tool.Dir + " --no-audit --no-fund)"
	}
	if missing != "" {
		fixtures.MissingTool(t, tool.What+" cross-check: "+missing, "npm install --prefix tools/"+tool.Dir+" --no-audit --no-fund")
	}
	cmd := exec.Command(node, append([]string{filepath.Join(dir, tool.Script)}, args...)...)
	cmd.Dir = dir
	stdout, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s could not read %v: %v\n%s", tool.What, args, err, stderr)
	}
	var lines []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			lines = append(lines, append(json.RawMessage(nil), line...))
		}
	}
	all, _ := json.Marshal(lines)
	if err := json.Unmarshal(all, out); err != nil {
		t.Fatalf("%s printed %q: %v", tool.What, stdout, err)
	}
}
