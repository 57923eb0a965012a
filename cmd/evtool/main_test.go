package main

import "testing"

// Only the command that opens a window keeps the main OS thread that ebiten locks at start-up; every
// other one gives it back (a locked main goroutine halved the cores a conversion used).
func TestKeepsMainThread(t *testing.T) {
	for _, c := range []struct {
		args []string
		keep bool
	}{
		{[]string{"view", "x.aedat4"}, true},
		{[]string{"--quiet", "view", "x.aedat4", "--scale", "2"}, true},
		{[]string{"convert", "Train", "-o", "x.npz"}, false},
		{[]string{"info", "view"}, false},
		{[]string{"help", "view"}, false},
		{[]string{}, false},
		{[]string{"no-such-verb"}, false},
	} {
		if got := keepsMainThread(c.args); got != c.keep {
			t.Errorf("%q: keeps the main thread %v, want %v", c.args, got, c.keep)
		}
	}
}
