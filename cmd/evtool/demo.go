package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/demo"
	"github.com/evtool/evtool/internal/atomicfile"
	"github.com/evtool/evtool/internal/cli"
)

func init() {
	var out string
	var quick, force bool
	cmd := &cobra.Command{
		Use:   "demo [--out DIR] [--quick]",
		Short: "A guided tour on real data evtool ships: synthetic events from MNIST digits, tested on real N-MNIST recordings",
		Long: `A guided tour of evtool on the data it ships (no download; licences in demo/ATTRIBUTION.md): 1,000
MNIST digit images become event recordings by simulated saccades, a spiking network learns from those
synthetic events alone, and it is tested on 80 real N-MNIST recordings of an ATIS camera — the
sim-to-real pipeline, with honest figures. Every step prints the command that does it.

The files go to a new temporary folder, or to --out DIR (a new folder: an existing one is refused
unless --force). The folder appears only once the tour is complete; a failure or a signal leaves
nothing. --quick (CI) makes 500 digits and trains 5 epochs instead of 12.`,
		Example: `  evtool demo
  evtool demo --out evtool-demo --quick`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				parent, err := os.MkdirTemp("", "evtool-demo-")
				if err != nil {
					return err
				}
				out = parent + string(os.PathSeparator) + "tour"
			} else if err := checkOutput(out, force); err != nil {
				return err
			}
			dir, err := atomicfile.CreateDir(out, force)
			if err != nil {
				return err
			}
			fmt.Printf("evtool demo: the files go to %s; the commands shown run inside it\n", out)
			res, err := demo.Run(cmd.Context(), demo.Options{Dir: dir.Tmp, Quick: quick, Log: os.Stdout})
			if err != nil {
				dir.Abort()
				return err
			}
			if err := dir.Commit(); err != nil {
				return err
			}
			fmt.Printf("\nDone in %s. The files are in %s (cd there to run the commands above). Open the datasets in\n"+
				"Python with pyarrow or polars (docs/FORMAT.md); the model loads in PyTorch with safetensors (docs/train.md).\n",
				time.Duration(res.Seconds*float64(time.Second)).Round(time.Second), out)
			cli.Infof("demo: %.1f %% of %d real N-MNIST recordings right, from %d synthetic training samples",
				100*res.RealAccuracy, res.RealSamples, res.Digits)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the files the tour makes (default: a new temporary folder)")
	cmd.Flags().BoolVar(&quick, "quick", false, "a smaller, faster tour (used by CI)")
	forceFlag(cmd, &force)
	rootCmd.AddCommand(cmd)
}
