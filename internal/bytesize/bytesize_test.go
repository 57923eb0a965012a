package bytesize

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{
		"1": 1, "512MiB": 512 << 20, "2GB": 2e9, "1.5G": 3 << 29, "300k": 300 << 10, "10 kB": 10000,
		"4gib": 4 << 30, "1TB": 1e12, "7b": 7, " 64 M ": 64 << 20,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1G", "G", "1X", "NaN", "1e30", "1.5.2M"} {
		if n, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", bad, n)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{
		900: "900 B", 1536: "1.50 KiB", 512 << 20: "512 MiB", 3 << 29: "1.50 GiB", 50 << 20: "50.0 MiB", 5 << 40: "5.00 TiB",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
