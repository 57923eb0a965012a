package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/imagesrc"
	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/synth"
)

func init() {
	var images, preset, out, split, to string
	var limit, workers int
	var seed uint64
	var sets []string
	var listParams, force bool
	var ff formatFlags
	var shf shardFlags
	cmd := &cobra.Command{
		Use:   "synth --images SOURCE -o OUTPUT [--preset nmnist]",
		Short: "Make an event dataset from static images by simulated saccades (calibrated against N-MNIST)",
		Long: `Move every image of SOURCE in front of a simulated event camera, as N-MNIST was recorded (three
saccades over a triangle), and write the events as one labelled dataset: an Arrow file, or with
--to nmnist a folder of N-MNIST .bin files (Train/<digit>/00001.bin …).

SOURCE is an MNIST IDX images file (gzip or not; the labels file beside it is found by name),
a folder of PNG/JPEG images (the class is the sub-folder name; Train/ and Test/ sub-folders are
chosen with --split), or builtin:digits[:N] (N procedurally drawn digits, no download).

The nmnist preset reproduces the real N-MNIST recordings' statistics; change any parameter with
--set name=value (see --list-params). Samples are made on all cores; the output is identical for
any number of workers, and the same seed gives the same bytes.`,
		Example: `  evtool synth --images t10k-images-idx3-ubyte.gz -o nmnist-test.arrow
  evtool synth --images builtin:digits:2000 --split test -o digits.arrow --seed 7
  evtool synth --images t10k-images-idx3-ubyte.gz --to nmnist -o N-MNIST-synth --limit 1000
  evtool synth --images photos/ --preset dvs128 --set shot=1 -o photos.arrow
  evtool synth --preset v2e-noisy --list-params`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := synth.Preset(preset)
			if err != nil {
				return cli.Usagef("--preset: %v", err)
			}
			for _, kv := range sets {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return cli.Usagef("--set %q: want name=value", kv)
				}
				if err := p.Set(k, v); err != nil {
					return cli.Usagef("--set: %v", err)
				}
			}
			if cmd.Flags().Changed("seed") {
				p.Seed = seed
			}
			if err := p.Validate(); err != nil {
				return cli.Usagef("%v", err)
			}
			if listParams {
				return printSynthParams(p)
			}
			if images == "" || out == "" {
				return cli.Usagef("synth needs --images SOURCE and -o OUTPUT")
			}
			if limit < 0 {
				return cli.Usagef("--limit %d: want a positive number (0: all)", limit)
			}
			fo, err := ff.options()
			if err != nil {
				return err
			}
			fo.Overwrite = force
			to, part, err := shf.apply(out, to, split, &fo)
			if err != nil {
				return err
			}
			if err := checkOutputOf(out, to, force, part); err != nil {
				return err
			}
			src, err := imagesrc.Open(images, imagesrc.Options{Split: split, Seed: p.Seed})
			if err != nil {
				return err
			}
			f, err := formats.OutputFormat(out, to)
			if err != nil {
				return cli.Usagef("%v", err)
			}
			if !f.DatasetCreate {
				return cli.Usagef("format %s cannot hold a dataset; write .arrow or use --to nmnist", f.Name)
			}
			if err := checkCompression(f, fo.Compression); err != nil {
				return err
			}
			if err := checkParams(fo, f); err != nil {
				return err
			}
			meta := events.Meta{Kind: events.KindDataset, Geometry: events.Geometry{Width: p.Width, Height: p.Height},
				Classes: src.Classes(), Source: fmt.Sprintf("evtool synth --preset %s from %s", preset, src.Describe())}
			meta.SetExtra("synth.preset", preset)
			meta.SetExtra("synth.params", p.String())
			sink, err := f.Create(out, meta, fo)
			if err != nil {
				return err
			}
			w := sink.Samples
			if w == nil {
				sink.Abort()
				return fmt.Errorf("format %s did not open a dataset writer for %s", f.Name, out)
			}
			n := src.Len()
			if limit > 0 {
				n = min(n, limit)
			}
			first, end := part.Range(n)
			n = end - first
			bar := cli.NewProgress(int64(n), "synthesising", false)
			ctx := cmd.Context()
			var total, on int64
			err = synth.Generate(ctx, src, p, synth.GenerateOptions{Limit: limit, Start: first, End: end, Workers: workers,
				Progress: func(done, _ int64) { bar.Set(done) }},
				func(s *events.Sample) error {
					total += int64(s.Events.Len())
					for _, pol := range s.Events.P {
						on += int64(pol)
					}
					return w.WriteSample(s)
				})
			bar.Done()
			if err != nil {
				w.Abort()
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
			mean, onFrac := 0.0, 0.0
			if n > 0 {
				mean = float64(total) / float64(n)
			}
			if total > 0 {
				onFrac = float64(on) / float64(total)
			}
			cli.Infof("wrote %s: %s dataset, %d samples, %d events (%.0f per sample, ON fraction %.3f), %dx%d",
				out, f.Name, n, total, mean, onFrac, p.Width, p.Height)
			partNote(convert.Options{To: to, Part: part}, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&images, "images", "", "image source: an IDX images file, a folder of PNG/JPEG, or builtin:digits[:N]")
	enumVar(cmd, &preset, "preset", "nmnist", "parameter preset: "+strings.Join(synth.PresetNames(), ", "), synth.PresetNames())
	fl.StringVarP(&out, "output", "o", "", "output file (.arrow) or folder (with --to nmnist)")
	formatVar(cmd, &to, "to", "output format (default: from the extension of OUTPUT); nmnist writes .bin files", true)
	enumVar(cmd, &split, "split", "", "train or test: which part of a folder with Train/Test sub-folders or of the built-in digits, and the prefix of sample ids",
		[]string{"train", "test"})
	fl.IntVar(&limit, "limit", 0, "synthesise at most N images (0: all)")
	fl.Uint64Var(&seed, "seed", 0, "global seed; sample i uses hash(seed, i)")
	fl.StringArrayVar(&sets, "set", nil, "change a synthesis parameter: name=value (repeatable; see --list-params)")
	fl.BoolVar(&listParams, "list-params", false, "print every synthesis parameter with its unit and the preset's value, then exit")
	fl.IntVar(&workers, "workers", 0, "worker goroutines (0: all cores)")
	forceFlag(cmd, &force)
	fl.StringVar(&ff.compression, "compression", "", compressionHelp)
	fl.StringArrayVarP(&ff.params, "option", "O", nil, "format-specific option key=value (repeatable; see evtool formats)")
	shf.register(cmd)
	rootCmd.AddCommand(cmd)
}

// printSynthParams prints the parameter table of p.
func printSynthParams(p synth.Params) error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVALUE\tUNIT\tMEANING")
	for _, d := range synth.ParamDocs(p) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Name, d.Default, d.Unit, d.Help)
	}
	return tw.Flush()
}
