package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/demo"
	"github.com/evtool/evtool/internal/cli"
)

func init() {
	var out string
	var quick bool
	cmd := &cobra.Command{
		Use:   "demo [--out DIR] [--quick]",
		Short: "A guided tour of evtool on data it makes itself (no download)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var log = os.Stdout
			res, err := demo.Run(ctx, demo.Options{OutDir: out, Quick: quick, Log: log})
			if err != nil {
				return err
			}
			cli.Infof("demo finished: %d training and %d test samples, %d events", res.TrainSamples, res.TestSamples, res.Events)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "evtool-demo", "folder for the files the demo makes")
	cmd.Flags().BoolVar(&quick, "quick", false, "a smaller, faster tour (used by CI)")
	rootCmd.AddCommand(cmd)
}
