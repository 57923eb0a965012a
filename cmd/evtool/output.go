package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/shards"
)

// The overwrite policy, the same for every verb that writes: an output that exists already — a file or
// a folder — is refused unless --force; with --force it is replaced only once the new output is complete
// (a failure or a signal before that leaves the old one as it was).

// forceFlag adds --force to a verb that writes.
func forceFlag(cmd *cobra.Command, force *bool) {
	cmd.Flags().BoolVarP(force, "force", "f", false, "replace an output that exists already (file or folder)")
}

// checkOutput refuses an existing output unless force.
func checkOutput(path string, force bool) error {
	st, err := os.Stat(path)
	if err != nil || force {
		return nil
	}
	what := "file"
	if st.IsDir() {
		what = "folder"
	}
	return fmt.Errorf("%s exists already (a %s); add --force to replace it, or choose another output", path, what)
}

// checkOutputOf is checkOutput for the verbs that can write one part of an array job: the parts share
// their output folder, which exists once the first part has written into it.
// A folder of shards is checked by its writer, which knows the folder the dataset goes into (with
// --partition split, root/split=train: another split may share root).
func checkOutputOf(path, to string, force bool, part shards.Part) error {
	if !part.Whole() || to == "shards" {
		return nil
	}
	return checkOutput(path, force)
}

// printfVerb finds the frame-number verb of a PNG sequence pattern (frame_%04d.png).
var printfVerb = regexp.MustCompile(`%[-+ #0]*[0-9]*[dxXo]`)

// checkSequence refuses a PNG sequence whose pattern names files that exist already, unless force.
func checkSequence(pattern string, force bool) error {
	if force || !printfVerb.MatchString(pattern) {
		return nil
	}
	matches, _ := filepath.Glob(printfVerb.ReplaceAllString(pattern, "*"))
	if len(matches) > 0 {
		return fmt.Errorf("%s exists already (a frame of %s); add --force to replace the frames, or choose another name", matches[0], pattern)
	}
	return nil
}

// ctxReader stops a stream when ctx is cancelled (a signal): the verb then unwinds through the error.
type ctxReader struct {
	events.Reader
	ctx context.Context
}

func (r ctxReader) Read(dst *events.Batch) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	return r.Reader.Read(dst)
}

// Boxes passes on the boxes of a stream that carries them (events.BoxReader), so that a cancellable
// stream keeps its detection labels; none otherwise (its Meta does not say Boxes).
func (r ctxReader) Boxes() []events.Box {
	if b, ok := r.Reader.(events.BoxReader); ok {
		return b.Boxes()
	}
	return nil
}
