// Command evtool reads, converts, transforms, synthesises, views and learns from event-camera data.
// Each verb lives in its own file; they only parse flags and call the packages.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/internal/cli"
)

// rootCmd is the top of the command tree; every verb file adds itself in an init function.
var rootCmd = &cobra.Command{
	Use:   "evtool",
	Short: "A fast, dependable toolkit for event-camera (neuromorphic) data",
	Long: `evtool reads every common event-camera format, transforms events, synthesises event datasets from
static images, writes compressed Apache Arrow / Parquet, trains spiking networks and shows events.`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func init() {
	rootCmd.PersistentFlags().BoolVarP(&cli.Quiet, "quiet", "q", false, "silence progress bars and info lines")
}

func main() {
	err := rootCmd.Execute()
	// What readers dropped or distrusted is told even with --quiet: it is about the data, not progress.
	for _, line := range notices.Lines() {
		fmt.Fprintln(os.Stderr, "evtool: warning:", line)
	}
	if notices.HasLoss() && err == nil {
		fmt.Fprintln(os.Stderr, "evtool: --strict makes data loss an error")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "evtool:", err)
		if errors.Is(err, formats.ErrTimeRange) {
			fmt.Fprintln(os.Stderr, "evtool: to shift the times to start at 0, add -t time-align")
		}
		var ue *cli.UsageError
		if errors.As(err, &ue) || cli.IsCobraUsageError(err) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
