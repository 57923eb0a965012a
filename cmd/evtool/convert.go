package main

import (
	"github.com/spf13/cobra"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/sources"
	"github.com/evtool/evtool/transforms"
)

// checkOutputFormat checks, before any work, that the output's name (or --to) gives a format that takes
// what the conversion makes — tensors when the chain ends in a representation, else events — with the
// --compression asked for. It returns the writer, for checkParams: the format's tensor writer
// (Format.TensorFormat) for tensors.
func checkOutputFormat(out, to string, chain *transforms.Chain, compression string) (*formats.Format, error) {
	if chain != nil && chain.HasRepresentation() {
		f, err := formats.TensorOutputFormat(out, to)
		if err != nil {
			return nil, cli.Usage(err)
		}
		return f.TensorFormat(), nil
	}
	f, err := formats.OutputFormat(out, to)
	if err != nil {
		return nil, cli.Usage(err)
	}
	return f, checkCompression(f, compression)
}

// convertHooks lets other verb files (transforms) add flags to convert and turn them into options,
// without this file knowing them.
var convertHooks []func(cmd *cobra.Command) func(o *convert.Options) error

func init() {
	var out, from, to string
	var workers int
	var force bool
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
The output is written under a temporary name and moved into place only when everything succeeded; an
output that exists already is refused unless --force, and replaced only then.`,
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
		fo.Overwrite = force
		o := convert.Options{From: from, To: to, Format: fo, Workers: workers}
		if o.Slice, err = sf.spec(cmd); err != nil {
			return err
		}
		for _, apply := range applyHooks {
			if err := apply(&o); err != nil {
				return err
			}
		}
		if err := checkOutputOf(out, o.To, force, o.Part); err != nil {
			return err
		}
		outFmt, err := checkOutputFormat(out, o.To, o.Chain, fo.Compression)
		if err != nil {
			return err
		}
		plan, err := sources.Discover(args, from)
		if err != nil {
			return err
		}
		inFmts, err := planFormats(plan, from)
		if err != nil {
			return err
		}
		if err := checkParams(o.Format, append(inFmts, outFmt)...); err != nil {
			return err
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
		ctx := cmd.Context()
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
	formatVar(cmd, &from, "from", "force the input format (see: evtool formats)", false)
	formatVar(cmd, &to, "to", "force the output format (see: evtool formats)", true)
	cmd.Flags().IntVar(&workers, "workers", 0, "decoding goroutines (default: all cores)")
	forceFlag(cmd, &force)
	ff.register(cmd, true)
	sf.register(cmd)
	rootCmd.AddCommand(cmd)
}
