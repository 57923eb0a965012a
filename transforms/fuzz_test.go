package transforms

import (
	"errors"
	"testing"
)

// FuzzParse: any spec text is either a chain whose canonical text parses back to itself, or one error;
// never a panic. A syntax error's position lies inside the spec.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"denoise(dt=10ms)", "crop(x0=1, y0=1, w=32, h=32) | frames(bins=10)",
		"jitter-xy(sigma-x=1.5, sigma-y=2, rho=-0.5)", "time-scale(factor=50%)", "downsample(to=17x17)", "refractory(period"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		c, err := Parse(spec)
		if err != nil {
			var se *SyntaxError
			if errors.As(err, &se) && (se.Pos < 0 || se.Pos > len(se.Spec)) {
				t.Fatalf("error position %d outside %q", se.Pos, se.Spec)
			}
			return
		}
		again, err := Parse(c.String())
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", c.String(), spec, err)
		}
		if again.String() != c.String() {
			t.Fatalf("canonical text not stable: %q then %q", c.String(), again.String())
		}
	})
}
