// Package cli holds what every evtool verb shares: exit codes and typed usage errors, the handling of
// SIGINT and SIGTERM, printable messages, --quiet, info lines and progress bars that appear only when
// stderr is a terminal.
package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Quiet silences progress bars and info lines (--quiet).
var Quiet bool

// Stderr is where info lines and progress go (replaceable in tests).
var Stderr io.Writer = os.Stderr

// Infof prints an info line to stderr unless --quiet.
func Infof(format string, a ...any) {
	if Quiet {
		return
	}
	fmt.Fprintln(Stderr, Printable(fmt.Sprintf(format, a...)))
}

// Progress is a progress bar that draws only when stderr is a terminal and --quiet is off.
type Progress struct{ bar *progressbar.ProgressBar }

// StderrIsTerminal reports whether stderr is an interactive terminal.
func StderrIsTerminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

// NewProgress starts a bar for total units (bytes when isBytes); total < 0 means unknown.
func NewProgress(total int64, what string, isBytes bool) *Progress {
	if Quiet || !StderrIsTerminal() {
		return &Progress{}
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	}
	if isBytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	}
	return &Progress{bar: progressbar.NewOptions64(total, opts...)}
}

// NewCountProgress starts a bar counting items of the given unit ("samples": the rate reads
// "samples/s"), with a description that Describe can change as the work goes.
func NewCountProgress(total int64, what, unit string) *Progress {
	if Quiet || !StderrIsTerminal() {
		return &Progress{}
	}
	return &Progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)}
}

// Describe replaces the bar's description.
func (p *Progress) Describe(what string) {
	if p.bar != nil {
		p.bar.Describe(what)
	}
}

// Set moves the bar to an absolute position.
func (p *Progress) Set(n int64) {
	if p.bar != nil {
		p.bar.Set64(n)
	}
}

// Done finishes the bar.
func (p *Progress) Done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
