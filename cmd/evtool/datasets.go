package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/datasets"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/cli"
)

func init() {
	root := &cobra.Command{
		Use:   "datasets",
		Short: "Public event datasets: list, fetch (with checksums), prepare into one Arrow dataset per split",
	}
	root.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the known datasets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, d := range datasets.All() {
				how := "fetch"
				if !d.Fetchable() {
					how = "manual download"
				}
				sensor := "varies"
				if d.Sensor.Known() {
					sensor = d.Sensor.String()
				}
				fmt.Printf("%-12s %-8s %-16s %s\n", d.Name, sensor, how, d.Title)
			}
			return nil
		},
	})
	root.AddCommand(&cobra.Command{
		Use:               "info NAME",
		Short:             "Show one dataset's definition: classes, layout, splits, downloads, licence, citation",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: datasetNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := datasets.Lookup(args[0])
			if err != nil {
				return cli.Usage(err)
			}
			printDataset(d)
			return nil
		},
	})

	var to, timeout string
	var attempts int
	fetch := &cobra.Command{
		Use:   "fetch NAME --to DIR",
		Short: "Download a dataset's official files, resuming, verifying checksums and extracting archives",
		Long: `Download a dataset's official files into DIR, verify their published checksums and extract archives.
A connection, the response headers and every read of the body are bounded by --timeout; a failed
attempt is retried (with a doubling pause) up to --attempts times, each resuming from the bytes already
in FILE.part, which an error or a signal keeps for the next fetch. Extraction is bounded by the size
the dataset definition expects, with a margin (a corrupt or hostile archive is refused).`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: datasetNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := datasets.Lookup(args[0])
			if err != nil {
				return cli.Usage(err)
			}
			if to == "" {
				return cli.Usagef("fetch needs a destination: --to DIR")
			}
			limit, _, err := parseDuration("timeout", timeout)
			if err != nil {
				return err
			}
			if limit <= 0 || attempts <= 0 {
				return cli.Usagef("--timeout and --attempts want positive values")
			}
			ctx := cmd.Context()
			var bar *cli.Progress
			current := ""
			wait := time.Duration(limit) * time.Microsecond
			err = datasets.Fetch(ctx, d, to, datasets.FetchOptions{
				ConnectTimeout: wait, HeaderTimeout: wait, IdleTimeout: wait, Attempts: attempts,
				Progress: func(file string, done, total int64) {
					if file != current {
						if bar != nil {
							bar.Done()
						}
						bar, current = cli.NewProgress(total, file, true), file
					}
					bar.Set(done)
				},
				Log: func(format string, a ...any) { cli.Infof(format, a...) },
			})
			if bar != nil {
				bar.Done()
			}
			if ctx.Err() != nil {
				return &cli.InterruptedError{Note: "partial downloads stay in " + to + " as FILE.part; the same fetch resumes them"}
			}
			var manual *datasets.ManualDownloadError
			if errors.As(err, &manual) {
				return fmt.Errorf("%w\nthen: evtool datasets prepare %s --from %s -o %s.arrow", err, d.Name, to, d.Name)
			}
			if err != nil {
				return err
			}
			cli.Infof("%s is in %s; next: evtool datasets prepare %s --from %s -o %s-train.arrow --split train", d.Name, to, d.Name, to, d.Name)
			return nil
		},
	}
	fetch.Flags().StringVar(&to, "to", "", "destination folder")
	fetch.Flags().StringVar(&timeout, "timeout", "60s", "the longest wait for a connection, for the response headers, and for the next bytes of a download")
	fetch.Flags().IntVar(&attempts, "attempts", 5, "requests per file before giving up (each resumes from the bytes received)")
	root.AddCommand(fetch)

	var from, out, split, gestureMode, window, history string
	var workers int
	var force bool
	var ff formatFlags
	prepare := &cobra.Command{
		Use:               "prepare NAME --from DIR -o OUT.arrow [--split train|test|all]",
		Short:             "Turn a downloaded dataset into one labelled dataset file (deterministic row order)",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: datasetNames,
	}
	var applyHooks []func(o *convert.Options) error
	for _, h := range convertHooks {
		applyHooks = append(applyHooks, h(prepare))
	}
	prepare.RunE = func(cmd *cobra.Command, args []string) error {
		d, err := datasets.Lookup(args[0])
		if err != nil {
			return cli.Usage(err)
		}
		if from == "" || out == "" {
			return cli.Usagef("prepare needs --from DIR and -o OUT")
		}
		fo, err := ff.options()
		if err != nil {
			return err
		}
		fo.Overwrite = force
		co := convert.Options{Format: fo, Workers: workers}
		for _, apply := range applyHooks {
			if err := apply(&co); err != nil {
				return err
			}
		}
		if err := checkOutputOf(out, co.To, force, co.Part); err != nil {
			return err
		}
		outFmt, err := checkOutputFormat(out, co.To, co.Chain, fo.Compression)
		if err != nil {
			return err
		}
		inFmt, err := formats.Lookup(d.Format)
		if err != nil {
			return err
		}
		if err := checkParams(co.Format, inFmt, outFmt); err != nil {
			return err
		}
		win, _, err := parseDuration("window", window)
		if err != nil {
			return err
		}
		hist, _, err := parseDuration("history", history)
		if err != nil {
			return err
		}
		sel := datasets.Selection{Split: split, DVSGestureSamples: gestureMode, Window: win, History: hist}
		plan, err := datasets.Inputs(d, from, sel)
		if errors.Is(err, datasets.ErrUnknownSplit) {
			return cli.Usagef("--split: %v", err)
		}
		if err != nil {
			return err
		}
		notes, err := datasets.Annotations(d, from, sel)
		if err != nil {
			return err
		}
		if notes != nil {
			if err := checkOutput(notes.Path(out), force); err != nil {
				return err
			}
		}
		ctx := cmd.Context()
		bar := cli.NewProgress(-1, "preparing "+d.Name, false)
		co.Progress = func(done, total int64) { bar.Set(done) }
		res, err := convert.Run(ctx, plan, out, co)
		bar.Done()
		if err != nil {
			return err
		}
		cli.Infof("wrote %s: %s %s split, %d samples, %d events, %dx%d", res.Output, d.Name, split, res.Samples, res.Events,
			res.Geometry.Width, res.Geometry.Height)
		if notes != nil {
			// The dataset's labels that are no classes (gaze, object positions) go beside it; without
			// them the output is incomplete, so a failure removes it too.
			path := notes.Path(out)
			if err := notes.Write(path); err != nil {
				removeOutput(co, out)
				return err
			}
			cli.Infof("wrote %s: %d rows (%s)", path, notes.Rows(), notes.Doc)
		}
		reportTally(co.Chain)
		partNote(co, out)
		return nil
	}
	prepare.Flags().StringVar(&from, "from", "", "folder holding the downloaded (extracted) dataset")
	prepare.Flags().StringVarP(&out, "output", "o", "", "output dataset file (.arrow, .parquet)")
	prepare.Flags().StringVar(&split, "split", "all", "train, test or all (evtool datasets info NAME lists the dataset's splits)")
	prepare.RegisterFlagCompletionFunc("split", func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		names := []string{"all"}
		if len(args) > 0 {
			if d, err := datasets.Lookup(args[0]); err == nil {
				names = append(d.SplitNames(), "all")
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	enumVar(prepare, &gestureMode, "dvsgesture-samples", "rows", "DVSGesture: rows (one sample per labels-CSV row, 1,464) or per-class (the paper's 1,342)", gestureModes)
	prepare.Flags().StringVar(&window, "window", "", "DSEC: cut each recording into samples of this duration (default 100ms)")
	prepare.Flags().StringVar(&history, "history", "", "Gen1, 1 Megapixel: events before each label time a sample holds (default 50ms)")
	prepare.Flags().IntVar(&workers, "workers", 0, "decoding goroutines (default: all cores)")
	forceFlag(prepare, &force)
	ff.register(prepare, true)
	root.AddCommand(prepare)
	root.AddCommand(newMergeCommand())
	rootCmd.AddCommand(root)
}

// gestureModes are the values of --dvsgesture-samples.
var gestureModes = []string{"rows", "per-class"}

func printDataset(d *datasets.Definition) {
	fmt.Printf("%s — %s\n", d.Name, d.Title)
	sensor := "varies per sample (canvas = maximum extent over the dataset)"
	if d.Sensor.Known() {
		sensor = d.Sensor.String()
	}
	fmt.Printf("  sensor      %s\n", sensor)
	if len(d.Classes) > 0 {
		fmt.Printf("  classes     %d: %s\n", len(d.Classes), strings.Join(d.Classes, ", "))
	} else if len(d.BoxClasses) > 0 {
		fmt.Printf("  boxes       %d classes: %s\n", len(d.BoxClasses), strings.Join(d.BoxClasses, ", "))
	} else if d.Layout == datasets.Container {
		fmt.Printf("  classes     as the download names them (see labels)\n")
	} else {
		fmt.Printf("  classes     from the class folders, sorted by name\n")
	}
	fmt.Printf("  layout      %s (format %s)\n", d.Layout, d.Format)
	fmt.Printf("  splits      %s — %s\n", strings.Join(d.SplitNames(), ", "), d.SplitRule)
	fmt.Printf("  labels      %s\n", d.LabelRule)
	if d.Samples != "" {
		fmt.Printf("  samples     %s\n", d.Samples)
	}
	for _, dl := range d.Downloads {
		sum := "md5 " + dl.MD5
		if dl.SHA256 != "" {
			sum = "sha256 " + dl.SHA256
		}
		fmt.Printf("  download    %s (%s)\n              %s\n", dl.File, sum, dl.URL)
	}
	if d.ManualPage != "" {
		fmt.Printf("  download    manual: %s\n              files: %s\n", d.ManualPage, strings.Join(d.ManualFiles, "; "))
	}
	fmt.Printf("  licence     %s\n  citation    %s\n", d.License, d.Citation)
	if d.Notes != "" {
		fmt.Printf("  notes       %s\n", d.Notes)
	}
}
