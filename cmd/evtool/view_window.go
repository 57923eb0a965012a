//go:build !noview

package main

import "github.com/evtool/evtool/viewer/player"

// windowMissing reports whether this build lacks the player window; this one has it.
func windowMissing() error { return nil }

func runWindow(p *player.Player, title string, frames int) error {
	return player.Run(p, player.RunOptions{Title: title, Frames: frames})
}
