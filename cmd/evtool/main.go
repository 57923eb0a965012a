// Command evtool reads, converts, transforms, synthesises, views and learns from event-camera data.
// Each verb lives in its own file; they only parse flags and call the packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/transforms"
)

// mainThread is the annotation of a command that opens a window: it keeps the main OS thread.
const mainThread = "evtool/main-thread"

// keepsMainThread tells whether the command args name opens a window.
func keepsMainThread(args []string) bool {
	cmd, _, err := rootCmd.Find(args)
	return err == nil && cmd.Annotations[mainThread] != ""
}

// rootCmd is the top of the command tree; every verb file adds itself in an init function.
var rootCmd = &cobra.Command{
	Use:   "evtool",
	Short: "A fast, dependable toolkit for event-camera (neuromorphic) data",
	Long: `evtool reads every common event-camera format, transforms events, synthesises event datasets from
static images, writes compressed Apache Arrow / Parquet, trains spiking networks and shows events.

Exit codes: 0 done, 1 failed, 2 bad usage, 130/143 interrupted by SIGINT/SIGTERM (no output written).`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func init() {
	rootCmd.PersistentFlags().BoolVarP(&cli.Quiet, "quiet", "q", false, "silence progress bars and info lines")
	// cobra's own --version line ("evtool version …"), not SetVersionTemplate: a template runs
	// text/template, whose reflective method calls stop the linker from dropping unused methods
	// (3.5 MB of the noview build; docs/performance.md).
	rootCmd.Version = versionDetail()
	cli.Hints = append(cli.Hints, func(err error) string {
		switch {
		case errors.Is(err, formats.ErrTimeRange):
			return "to shift the times to start at 0, add -t time-align"
		case errors.Is(err, formats.ErrUnknownFormat):
			return "name an input's format with --from, an output's with --to (evtool formats lists them)"
		case errors.As(err, new(optionFlagError)):
			return "" // told as the -O flag already, with the options the formats take
		case errors.Is(err, formats.ErrOption):
			return "format options are given as -O key=value (evtool formats NAME lists a format's options)"
		case errors.Is(err, events.ErrSensor):
			return "the sensor size is given with --sensor WIDTHxHEIGHT"
		}
		return ""
	})
	// A transform that does not parse, or does not fit the input, is bad usage wherever it shows.
	cli.UsageKinds = append(cli.UsageKinds, func(err error) bool {
		var se *transforms.SyntaxError
		var ste *transforms.StageError
		return errors.As(err, &se) || errors.As(err, &ste)
	})
	// A format setting's value that its reader or writer does not take came from -O: bad usage too.
	cli.UsageKinds = append(cli.UsageKinds, func(err error) bool {
		return errors.As(err, new(*formats.ParamError))
	})
}

func main() {
	if !keepsMainThread(os.Args[1:]) {
		// The player's window library locks the main goroutine to the main OS thread at start-up (a
		// window is driven from it). A locked goroutine must be handed that one thread at every
		// wake-up, and a conversion's main goroutine wakes for every sample: locked, a frames .npz
		// conversion used about one core of two (0.21 s, against 0.13 s given back). Without the lock
		// (noview builds) this does nothing.
		runtime.UnlockOSThread()
	}
	cli.ClassifyCommands(rootCmd)
	ctx, stop := cli.WithSignals(context.Background())
	err := rootCmd.ExecuteContext(ctx)
	stop()
	// What readers dropped or distrusted is told even with --quiet: it is about the data, not progress.
	for _, line := range notices.Lines() {
		fmt.Fprintln(cli.Stderr, "evtool: warning:", cli.Printable(line))
	}
	if notices.HasLoss() && err == nil {
		fmt.Fprintln(cli.Stderr, "evtool: --strict makes data loss an error")
	}
	cli.Exit(err)
}
