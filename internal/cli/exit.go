package cli

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

// Exit codes. 2 is for bad usage only: a command line evtool cannot run (an unknown verb, flag or value,
// a transform that does not fit the input). Anything that goes wrong while running is 1; a run ended
// by SIGINT or SIGTERM exits 130 or 143.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// UsageError marks bad usage: evtool exits with code 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef builds a UsageError.
func Usagef(format string, a ...any) error { return &UsageError{Err: fmt.Errorf(format, a...)} }

// Usage marks err as bad usage (nil stays nil).
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Err: err}
}

// IsUsage reports whether err is bad usage.
func IsUsage(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue)
}

func asInterrupted(err error) (*InterruptedError, bool) {
	var ie *InterruptedError
	ok := errors.As(err, &ie)
	return ie, ok
}

// Hints add a line after an error of a kind that has a known fix (registered by the commands).
var Hints []func(err error) string

// UsageKinds recognise the typed errors of the packages that mean bad usage (an unknown transform, a
// chain that does not fit the input); the commands register them.
var UsageKinds []func(err error) bool

// ExitCode is the process exit code for the error a verb returned.
func ExitCode(err error) int {
	if s := Signal(); s != nil {
		return signalCode(s)
	}
	switch {
	case err == nil:
		return ExitOK
	case IsUsage(err):
		return ExitUsage
	}
	for _, is := range UsageKinds {
		if is(err) {
			return ExitUsage
		}
	}
	return ExitFailure
}

// Report prints err to Stderr (with its hints, as printable text) and returns the exit code.
func Report(err error) int {
	if s := Signal(); s != nil {
		fmt.Fprintln(Stderr, "evtool:", Printable(interruptedMessage(s, err)))
		return signalCode(s)
	}
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(Stderr, "evtool:", Printable(err.Error()))
	for _, h := range Hints {
		if line := h(err); line != "" {
			fmt.Fprintln(Stderr, "evtool:", Printable(line))
		}
	}
	return ExitCode(err)
}

// Printable makes text safe to print: bytes that are not UTF-8 (a file name from another system) become
// \xNN, and control characters other than newline and tab are escaped too, so a message never carries
// raw bytes or terminal escapes.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// ClassifyCommands makes cobra's own errors typed, without looking at their text: flag errors (unknown
// flag, bad value, missing value) and argument errors of every command under root become UsageErrors,
// and a command with sub-commands and no action of its own answers an unknown sub-command with a
// UsageError that suggests the closest ones (cobra would print the help and exit 0).
func ClassifyCommands(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &UsageError{Err: fmt.Errorf("%w (see: %s --help)", err, c.CommandPath())}
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasSubCommands() && !c.Runnable() {
			c.SuggestionsMinimumDistance = 2
			c.Args = func(cmd *cobra.Command, a []string) error {
				if len(a) == 0 {
					return nil
				}
				msg := fmt.Sprintf("unknown command %q for %q", a[0], cmd.CommandPath())
				if s := cmd.SuggestionsFor(a[0]); len(s) > 0 {
					msg += "; did you mean " + strings.Join(s, " or ") + "?"
				}
				return &UsageError{Err: fmt.Errorf("%s (see: %s --help)", msg, cmd.CommandPath())}
			}
			c.RunE = func(cmd *cobra.Command, a []string) error { return cmd.Help() }
		} else if args := c.Args; args != nil {
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return &UsageError{Err: fmt.Errorf("%s: %w (usage: %s)", cmd.CommandPath(), err, cmd.UseLine())}
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
