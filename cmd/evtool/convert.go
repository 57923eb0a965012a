package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/sources"
)

// convertHooks lets other verb files (transforms) add flags to convert and turn them into options,
// without this file knowing them.
var convertHooks []func(cmd *cobra.Command) func(o *convert.Options) error

func init() {
	var out, from, to string
	var workers int
	var sf sliceFlags
	var ff formatFlags
	cmd := &cobra.Command{
		Use:   "convert INPUT... -o OUTPUT",
		Short: "Convert event files between formats; a folder of samples becomes one labelled dataset",
		Long: `Convert a recording of any readable format into any writable one (the output format comes from
the extension of OUTPUT, or --to). A folder becomes one dataset: every event file in it is a sample,
labelled by the name of the folder it sits in (N-MNIST's Train/<digit>/*.bin layout gives labels 0..9),
decoded on all cores; rows are in sorted path order, so the output is the same on every run.
Several dataset files become one dataset (labels matched by class name, ids prefixed by the file name).
A chain ending in a representation (-t '… | frames(bins=10)') writes one tensor per sample instead: to
.arrow (Arrow's tensor extension types), .npz (x, y, ids, classes) or .npy.
The output is written to a temporary file and moved into place only when everything succeeded.`,
		Example: `  evtool convert recording.aedat4 -o recording.arrow
  evtool convert N-MNIST/Train -o train.arrow
  evtool convert train.arrow -o Train-bin --to nmnist # back to a folder of .bin files
  evtool convert train.arrow test.arrow -o all.arrow  # several datasets into one
  evtool convert N-MNIST/Train -o frames.npz -t 'frames(bins=10)'`,
		Args: cobra.MinimumNArgs(1),
	}
	var applyHooks []func(o *convert.Options) error
	for _, h := range convertHooks {
		applyHooks = append(applyHooks, h(cmd))
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if out == "" {
			return cli.Usagef("convert needs an output: -o OUTPUT")
		}
		fo, err := ff.options()
		if err != nil {
			return err
		}
		// Outputs that are not event formats (tensors to .npz) are reported by convert.Run.
		if f, err := formats.OutputFormat(out, to); err == nil {
			if err := checkCompression(f, fo.Compression); err != nil {
				return err
			}
		}
		plan, err := sources.Discover(args, from)
		if err != nil {
			return err
		}
		o := convert.Options{From: from, To: to, Format: fo, Workers: workers}
		if o.Slice, err = sf.spec(cmd); err != nil {
			return err
		}
		for _, apply := range applyHooks {
			if err := apply(&o); err != nil {
				return err
			}
		}
		var bar *cli.Progress
		if plan.Dataset {
			lo, hi := o.Part.Range(len(plan.Items))
			bar = cli.NewProgress(int64(hi-lo), "converting", false)
			o.Progress = func(done, total int64) { bar.Set(done) }
		} else {
			bar = cli.NewProgress(-1, "events", false)
			o.Progress = func(done, total int64) { bar.Set(done) }
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		res, err := convert.Run(ctx, plan, out, o)
		bar.Done()
		if err != nil {
			return err
		}
		defer reportTally(o.Chain)
		switch {
		case res.Kind == events.KindTensors:
			cli.Infof("wrote %s: %s tensors of %d samples (%d events after filtering), from a %dx%d sensor", res.Output,
				res.Format, res.Samples, res.Events, res.Geometry.Width, res.Geometry.Height)
		case res.Kind == events.KindDataset:
			cli.Infof("wrote %s: %s dataset, %d samples, %d events, %dx%d", res.Output, res.Format, res.Samples,
				res.Events, res.Geometry.Width, res.Geometry.Height)
		default:
			cli.Infof("wrote %s: %s recording, %d events, %dx%d", res.Output, res.Format, res.Events,
				res.Geometry.Width, res.Geometry.Height)
		}
		partNote(o, out)
		return nil
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (or folder, for --to nmnist datasets)")
	cmd.Flags().StringVar(&from, "from", "", "force the input format (see: evtool formats)")
	cmd.Flags().StringVar(&to, "to", "", "force the output format (see: evtool formats)")
	cmd.Flags().IntVar(&workers, "workers", 0, "decoding goroutines (default: all cores)")
	ff.register(cmd, true)
	sf.register(cmd)
	rootCmd.AddCommand(cmd)
}
