package suggest

import (
	"reflect"
	"testing"
)

func TestClosest(t *testing.T) {
	known := []string{"arrow", "aedat", "aedat4", "nmnist", "parquet", "csv", "npy", "npz"}
	for _, c := range []struct {
		name string
		want []string
	}{
		{"arow", []string{"arrow"}},
		{"ARROW", []string{"arrow"}},
		{"aedat5", []string{"aedat", "aedat4"}},
		{"nmnsit", []string{"nmnist"}}, // a swap is one edit
		{"parq", []string{"parquet"}},  // a prefix
		{"npx", []string{"npy", "npz"}},
		{"xyzzy", nil},
		{"arrows", []string{"arrow"}},
		{"nmnist-bin", []string{"nmnist"}}, // a known name starts it
		{"c", nil},
	} {
		if got := Closest(c.name, known); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Closest(%q) = %v, want %v", c.name, got, c.want)
		}
	}
	if got := DidYouMean("arow", known); got != "; did you mean arrow?" {
		t.Errorf("DidYouMean = %q", got)
	}
	if got := DidYouMean("npx", known); got != "; did you mean npy or npz?" {
		t.Errorf("DidYouMean = %q", got)
	}
	if got := DidYouMean("zzzzzz", known); got != "" {
		t.Errorf("DidYouMean = %q", got)
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"µs", "us", 1}} {
		if got := distance(c.a, c.b); got != c.d {
			t.Errorf("distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
