// Package bytesize reads and writes sizes in bytes as people type them: 512MiB, 2GB, 1.5G, 300k.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// units are the suffixes Parse knows, longest first within each letter: binary (KiB = 1024) and
// decimal (kB = 1000); a bare letter (K, M, G, T) is binary, as free(1) and ls -h mean it.
var units = []struct {
	suffix string
	factor float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// Parse reads a size: a number with an optional unit (B, kB/MB/GB/TB = powers of 1000, KiB/MiB/GiB/TiB
// and K/M/G/T = powers of 1024), case-insensitive. It must be positive and at most 2^62 bytes.
func Parse(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	factor := 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, factor = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.factor
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || v <= 0 || v*factor > 1<<62 {
		return 0, fmt.Errorf("size %q: want a positive number of bytes with an optional unit, like 512MiB or 2GB", s)
	}
	return int64(math.Round(v * factor)), nil
}

// Format writes n bytes with a binary unit and three significant digits: 1.50 GiB, 512 MiB, 900 B.
func Format(n int64) string {
	v := float64(n)
	for _, u := range []string{"B", "KiB", "MiB", "GiB", "TiB"} {
		if math.Abs(v) < 1024 || u == "TiB" {
			switch {
			case u == "B":
				return fmt.Sprintf("%d B", n)
			case math.Abs(v) < 10:
				return fmt.Sprintf("%.2f %s", v, u)
			case math.Abs(v) < 100:
				return fmt.Sprintf("%.1f %s", v, u)
			}
			return fmt.Sprintf("%.0f %s", v, u)
		}
		v /= 1024
	}
	return ""
}
