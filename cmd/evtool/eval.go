package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/snn"
)

func init() {
	var model, data, memory string
	var asJSON bool
	var workers int
	var classMap []string
	cmd := &cobra.Command{
		Use:   "eval --model MODEL.safetensors --data TEST [--json]",
		Short: "Evaluate a trained spiking network: accuracy, per-class accuracy, confusion matrix",
		Long: `eval runs a trained model on every sample of a labelled dataset and prints the accuracy, the loss, the
accuracy per class, the confusion matrix, the firing rates and the time taken. The data's labels are
matched to the model's classes by name, so a test set may lack classes or list them in another order; a
class the model does not know is an error unless --class-map names the model class it stands for.`,
		Example: `  evtool eval --model mlp.safetensors --data test.arrow
  evtool eval --model mlp.safetensors --data test.arrow --json | jq .accuracy
  evtool eval --model mlp.safetensors --data test.arrow --class-map zero=0 --class-map one=1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if model == "" || data == "" {
				return cli.Usagef("eval needs --model and --data")
			}
			ctx := cmd.Context()
			aliases, err := parseClassMap(classMap)
			if err != nil {
				return err
			}
			m, err := snn.LoadModel(model)
			if err != nil {
				return err
			}
			budget, err := memoryBudget(memory)
			if err != nil {
				return err
			}
			d, err := loadDataset(ctx, data, m.Encoding, false, dataShare(budget, 2), false)
			if err != nil {
				return err
			}
			bar := cli.NewCountProgress(int64(d.Len()), "evaluating", "samples")
			ev, err := m.EvaluateWith(ctx, d, snn.EvalOptions{Workers: workers, Aliases: aliases,
				Progress: func(done, total int) { bar.Set(int64(done)) }})
			bar.Done()
			if err != nil {
				return classMapHint(fmt.Errorf("evaluate %s: %w", data, err))
			}
			if asJSON {
				return json.NewEncoder(os.Stdout).Encode(ev)
			}
			printEvaluation(m, ev)
			return nil
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "model file written by train (.safetensors)")
	cmd.Flags().StringVar(&data, "data", "", "labelled dataset file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	cmd.Flags().IntVar(&workers, "workers", 0, "worker goroutines (0 = all cores)")
	cmd.Flags().StringVar(&memory, "memory", "", "memory budget, like 8GiB (default: half of the machine's); a dataset whose encoding needs more than half of it is read from disk in chunks")
	cmd.Flags().StringArrayVar(&classMap, "class-map", nil, "score a data class the model does not know as one it does: NAME=MODELCLASS (repeatable)")
	rootCmd.AddCommand(cmd)
}

func printEvaluation(m *snn.Model, ev *snn.Evaluation) {
	w := os.Stdout
	fmt.Fprintf(w, "accuracy  %.2f %% (%d of %d), loss %.4f\n", 100*ev.Accuracy, ev.Correct, ev.Samples, ev.Loss)
	fmt.Fprintf(w, "per class\n")
	width := 5
	for _, c := range m.Classes {
		width = max(width, len(c))
	}
	for _, c := range ev.PerClass {
		if c.Samples == 0 {
			fmt.Fprintf(w, "  %-*s  %4d samples\n", width, c.Class, 0)
			continue
		}
		fmt.Fprintf(w, "  %-*s  %6.2f %% (%d of %d)\n", width, c.Class, 100*c.Accuracy, c.Correct, c.Samples)
	}
	fmt.Fprintf(w, "confusion (rows: true class, columns: predicted)\n")
	cell := 4
	for _, row := range ev.Confusion {
		for _, v := range row {
			cell = max(cell, len(fmt.Sprint(v))+1)
		}
	}
	fmt.Fprintf(w, "  %-*s", width, "")
	for c := range ev.Confusion {
		fmt.Fprintf(w, "%*d", cell, c)
	}
	fmt.Fprintln(w)
	for r, row := range ev.Confusion {
		fmt.Fprintf(w, "  %-*s", width, m.Classes[r])
		for _, v := range row {
			fmt.Fprintf(w, "%*d", cell, v)
		}
		fmt.Fprintln(w)
	}
	for _, r := range ev.SpikeRates {
		fmt.Fprintf(w, "spikes    layer %d: %.2f %% of (neuron, step) pairs\n", r.Layer, 100*r.Rate)
	}
	fmt.Fprintf(w, "time      %s (%s samples/s)\n", formatDuration(ev.Seconds), thousands(float64(ev.Samples)/max(ev.Seconds, 1e-9)))
}
