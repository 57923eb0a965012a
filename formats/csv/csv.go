// Package csv reads and writes events as delimited text, one event per line: `t,x,y,p` with a header,
// the layout pandas, polars and spreadsheets load (docs/formats-csv-npy-parquet.md).
//
// Reading streams in constant memory with a hand-rolled number parser (no allocation or strconv per
// field). The header is detected (a first line that is not all numbers) and names the columns, with the
// usual aliases (timestamp, polarity, on, …); extra columns are skipped. The separator is detected from
// the first line (comma, semicolon, tab, else runs of spaces) unless -O sep says. Times are integers or
// decimals in -O time-unit (us by default), rounded to the nearest microsecond; polarity is 0/1, -1/+1
// or true/false. Blank lines and lines starting with '#' are skipped.
package csv

import (
	"io"
	"math"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

func init() {
	formats.Register(&formats.Format{
		Name:        "csv",
		Description: "delimited text, one event per line: t,x,y,p with a header (separator, columns and time unit configurable)",
		// Not .txt: folders of samples hold README.txt and split lists; read such files with --from csv.
		Extensions: []string{".csv"},
		NewReader: func(r io.Reader, name string, o formats.Options) (formats.Source, error) {
			return formats.EventSource(NewReader(r, name, o))
		},
		Create: func(path string, meta events.Meta, o formats.Options) (formats.Sink, error) {
			return formats.EventSink(Create(path, meta, o))
		},
		Params: map[string]string{
			"sep":       `field separator: "," ";" "tab" or "space" (runs of blanks); read: detected from the first line, write: "," by default`,
			"columns":   `column order, e.g. "x,y,p,t" (names t, x, y, p; "-" skips a column); read: overrides the header, required order for files without one; write: the order to write`,
			"header":    `read: "auto" (default: a first line that is not all numbers is a header), "true" or "false"; write: "false" omits the header line`,
			"time-unit": `unit of t in the file: us (default), ms, s or ns; read: decimals allowed, rounded to the nearest µs; write: ms and s are written as exact decimals`,
			"polarity":  `write only: how to write p: "01" (default: 1 = ON), "sign" (-1/1) or "bool" (false/true); the reader accepts all three`,
		},
		Conformance: formats.Conformance{
			Geometry: events.Geometry{Width: 65536, Height: 65536},
			Extremes: []events.Event{{T: math.MinInt64, X: 65535, Y: 0, P: 1}, {T: -1, X: 0, Y: 65535},
				{T: 0, X: 65535, Y: 65535, P: 1}, {T: math.MaxInt64, X: 1, Y: 2}},
		},
	})
}

// Column roles.
const (
	colSkip = -1
	colT    = 0
	colX    = 1
	colY    = 2
	colP    = 3
)

var roleNames = [4]string{"t", "x", "y", "p"}

// aliases maps lower-case header names onto roles. Names with a unit suffix (t_ms, timestamp_s, …) are
// handled by headerRole.
var aliases = map[string]int{
	"t": colT, "ts": colT, "time": colT, "times": colT, "timestamp": colT, "timestamps": colT,
	"x": colX, "col": colX, "column": colX,
	"y": colY, "row": colY,
	"p": colP, "pol": colP, "polarity": colP, "polarities": colP, "on": colP, "sign": colP, "is_on": colP,
}

// timeUnits maps a unit name onto its power of ten relative to a microsecond.
var timeUnits = map[string]int{"us": 0, "µs": 0, "ms": 3, "s": 6, "ns": -3}

// headerRole returns the role a header name gives its column, and the time unit its name carries
// ("t_ms" → ms), or colSkip for a column evtool does not know.
func headerRole(name string) (role int, unit string) {
	n := strings.ToLower(strings.Trim(strings.TrimSpace(name), `"'`))
	if r, ok := aliases[n]; ok {
		return r, ""
	}
	// "t_us", "timestamp_ms", "time [s]", "t (ns)"
	for u := range timeUnits {
		for _, f := range []string{"_" + u, " [" + u + "]", "[" + u + "]", " (" + u + ")", "(" + u + ")"} {
			if base, ok := strings.CutSuffix(n, f); ok {
				if r, ok := aliases[base]; ok && r == colT {
					return colT, u
				}
			}
		}
	}
	return colSkip, ""
}

// config is the parsed -O options.
type config struct {
	sep       byte // 0: detect; ' ': runs of spaces and tabs
	columns   []int
	header    string // auto, true, false
	timeExp   int    // power of ten of the file's time unit relative to µs
	timeUnit  string // as given, "" when not given
	polarity  string // 01, sign, bool
	hasCols   bool
	writeHead bool
}

func parseConfig(o formats.Options, writing bool) (config, error) {
	c := config{header: "auto", polarity: "01", writeHead: true}
	switch s := o.Param("sep", ""); strings.ToLower(s) {
	case "":
		if writing {
			c.sep = ','
		}
	case ",", "comma":
		c.sep = ','
	case ";", "semicolon":
		c.sep = ';'
	case "\t", `\t`, "tab":
		c.sep = '\t'
	case " ", "space", "spaces", "whitespace":
		c.sep = ' '
	default:
		return c, o.BadParam("sep", "want \",\", \";\", tab or space")
	}
	if v := o.Param("columns", ""); v != "" {
		seen := [4]bool{}
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			role := colSkip
			if name != "-" && name != "_" {
				r, u := headerRole(name)
				if r == colSkip {
					return c, o.BadParam("columns", "unknown column %q (want t, x, y, p or - to skip)", name)
				}
				if u != "" && o.Param("time-unit", "") == "" {
					c.timeUnit = u
				}
				role = r
				if seen[role] {
					return c, o.BadParam("columns", "column %s is named twice", roleNames[role])
				}
				seen[role] = true
			}
			c.columns = append(c.columns, role)
		}
		for r, ok := range seen {
			if !ok {
				return c, o.BadParam("columns", "column %s is missing", roleNames[r])
			}
		}
		c.hasCols = true
	}
	switch h := strings.ToLower(o.Param("header", "auto")); h {
	case "auto", "":
	case "true", "1", "yes":
		c.header = "true"
	case "false", "0", "no":
		c.header = "false"
		c.writeHead = false
	default:
		return c, o.BadParam("header", "want auto, true or false")
	}
	if u := o.Param("time-unit", ""); u != "" {
		c.timeUnit = strings.ToLower(u)
	}
	if c.timeUnit != "" {
		e, ok := timeUnits[c.timeUnit]
		if !ok {
			return c, o.BadParam("time-unit", "want us, ms, s or ns")
		}
		c.timeExp = e
	}
	switch p := strings.ToLower(o.Param("polarity", "01")); p {
	case "01", "0/1":
		c.polarity = "01"
	case "sign", "-1/1", "-1/+1", "pm1":
		c.polarity = "sign"
	case "bool", "true/false":
		c.polarity = "bool"
	default:
		return c, o.BadParam("polarity", "want 01, sign or bool")
	}
	return c, nil
}
