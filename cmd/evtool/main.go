// Command evtool reads, converts, transforms, synthesises, views and learns from event-camera data.
// Each verb lives in its own file; they only parse flags and call the packages.
package main

import (
	"context"
	"errors"

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
static images, writes compressed Apache Arrow / Parquet, trains spiking networks and shows events.

Exit codes: 0 done, 1 failed, 2 bad usage, 130/143 interrupted by SIGINT/SIGTERM (no output written).`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func init() {
	rootCmd.PersistentFlags().BoolVarP(&cli.Quiet, "quiet", "q", false, "silence progress bars and info lines")
	rootCmd.Version = versionString()
	rootCmd.SetVersionTemplate(versionLine() + "\n")
	cli.Hints = append(cli.Hints, func(err error) string {
		if errors.Is(err, formats.ErrTimeRange) {
			return "to shift the times to start at 0, add -t time-align"
		}
		return ""
	})
}

func main() {
	cli.ClassifyCommands(rootCmd)
	ctx, stop := cli.WithSignals(context.Background())
	err := rootCmd.ExecuteContext(ctx)
	stop()
	cli.Exit(err)
}
