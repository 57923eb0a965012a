//go:build noview

package main

import (
	"errors"

	"github.com/evtool/evtool/viewer/player"
)

// errNoWindow is what view says in a build without the player (go build -tags noview: a fully static
// binary, since the player's ebiten links the C library at run time).
var errNoWindow = errors.New("this evtool was built without the player window (build tag noview, a fully static binary). " +
	"For evtool view, install a build with it: CGO_ENABLED=0 go install github.com/evtool/evtool/cmd/evtool@latest " +
	"(on Linux it needs glibc, and X11 and OpenGL at run time); or draw the events with evtool render (GIF or PNG)")

func windowMissing() error { return errNoWindow }

func runWindow(*player.Player, string, int) error { return errNoWindow }
