package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/internal/bytesize"
	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/snn"
	"github.com/evtool/evtool/transforms"
)

func init() {
	var (
		data, test, model, out, loss, surrogate, resume, checkpoint string
		epochs, batch, bins, hidden, earlyStop, workers, shift      int
		lr, lrMin, wd, band                                         float64
		seed                                                        uint64
		binary, dense, asJSON, force                                bool
		specs, augment, classMap                                    []string
	)
	var memory string
	cmd := &cobra.Command{
		Use:   "train --data TRAIN [--test TEST] [--model csnn|mlp|FILE] -o MODEL.safetensors",
		Short: "Train a spiking neural network (LIF, surrogate-gradient BPTT) on a labelled event dataset",
		Long: `train fits a leaky integrate-and-fire network to a dataset file (Arrow from convert, datasets prepare
or synth) on the CPU. Each sample becomes --bins time bins of per-(polarity, pixel) event counts. After
every epoch it prints a line with the loss, accuracy, speed and firing rates (--json: one JSON record per
epoch on stdout) and writes a checkpoint; on a terminal, progress bars show loading, each epoch and the
test. The final model is saved as safetensors with the architecture, input encoding and class names in
its metadata. See docs/train.md.`,
		Example: `  evtool train --data train.arrow -o csnn.safetensors
  evtool train --data train.arrow --test test.arrow --model mlp --epochs 10 --batch 128 --shift 0 -o mlp.safetensors
  evtool train --data train.arrow --resume csnn.ckpt.safetensors --epochs 20 -o csnn20.safetensors
  evtool train --data train.arrow -t 'denoise(dt=5ms) | frames(bins=8)' -o denoised.safetensors
  evtool train --data train.arrow --augment 'drop-event(prob=0.1) | jitter-t(sigma=1ms)' -o augmented.safetensors`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if data == "" || out == "" {
				return cli.Usagef("train needs --data and -o")
			}
			if !strings.HasSuffix(strings.ToLower(out), ".safetensors") {
				return cli.Usagef("the output %q should end in .safetensors", out)
			}
			if err := checkOutput(out, force); err != nil {
				return err
			}
			if checkpoint == "" {
				checkpoint = strings.TrimSuffix(out, ".safetensors") + ".ckpt.safetensors"
			}
			ctx := cmd.Context()

			enc := snn.Encoding{Bins: bins, Binary: binary}
			if len(specs) > 0 {
				if resume != "" {
					return cli.Usagef("-t and --resume: a resumed model keeps its own input transforms")
				}
				var err error
				if enc, err = inputEncoding(specs, enc, cmd.Flags().Changed("bins") || cmd.Flags().Changed("binary")); err != nil {
					return err
				}
			}
			if resume != "" {
				m, err := snn.LoadModel(resume)
				if err != nil {
					return err
				}
				enc = m.Encoding
				cli.Infof("resuming from %s (input: %s)", resume, enc.Spec())
			}
			var aug *transforms.Chain
			if len(augment) > 0 {
				var err error
				if aug, err = transforms.Parse(augment...); err != nil {
					return cli.Usagef("--augment: %v", err)
				}
				if aug.HasRepresentation() {
					return cli.Usagef("--augment takes event filters (drop-event, jitter-xy, …), not %s", aug.Stages[len(aug.Stages)-1].Def.Name)
				}
			}
			aliases, err := parseClassMap(classMap)
			if err != nil {
				return err
			}
			budget, err := memoryBudget(memory)
			if err != nil {
				return err
			}
			trainSet, err := loadDataset(ctx, data, enc, aug != nil, dataShare(budget, 3), true)
			if err != nil {
				return err
			}
			var testSet *snn.Dataset
			if test != "" {
				if testSet, err = loadDataset(ctx, test, trainSet.Encoding, false, dataShare(budget, 6), false); err != nil {
					return err
				}
			}
			pairs, dens := trainSet.Stats()
			cli.Infof("data: %d training samples, %d classes, %dx%d sensor, %s: %.0f active inputs per sample (%.1f %%), %s encoded",
				trainSet.Len(), len(trainSet.Classes), trainSet.Encoding.Width, trainSet.Encoding.Height,
				trainSet.Encoding.Spec(), pairs, 100*dens, bytesize.Format(trainSet.Bytes))

			var arch snn.Arch
			shape := trainSet.Encoding.Shape()
			switch model {
			case "mlp":
				arch = snn.MLP(shape, hidden, len(trainSet.Classes), loss)
			case "csnn":
				arch = snn.CSNN(shape, len(trainSet.Classes), loss)
			default:
				if arch, err = snn.LoadArch(model); err != nil {
					return err
				}
				if cmd.Flags().Changed("loss") {
					arch.Loss = loss
				}
				if arch.Input == (snn.Shape{}) {
					arch.Input = shape
				}
			}
			if cmd.Flags().Changed("surrogate") || arch.Surrogate.Name == "" {
				arch.Surrogate = snn.Surrogate{Name: surrogate}
			}
			cfg := snn.Config{Arch: arch, Epochs: epochs, BatchSize: batch, LR: lr, LRMin: lrMin, WeightDecay: wd,
				Seed: seed, Workers: workers, EarlyStop: earlyStop, Shift: shift, Augment: aug, Dense: dense, SparseGradBand: band,
				Checkpoint: checkpoint, Resume: resume, TestAliases: aliases}
			talk := newTrainTalk(asJSON)
			cfg.OnBatch, cfg.OnTest = talk.batch, talk.test
			started := time.Now()
			m, rep, err := snn.Train(ctx, cfg, trainSet, testSet, talk.epoch)
			talk.close()
			if ctx.Err() != nil {
				// A signal: the model is not written; the checkpoint of the last complete epoch is kept.
				note := "the model was not written"
				if st, err := os.Stat(checkpoint); err == nil && !st.ModTime().Before(started) {
					note += "; the checkpoint of the last complete epoch is " + checkpoint + " (continue with --resume " + checkpoint + ")"
				}
				return &cli.InterruptedError{Note: note}
			}
			if err != nil {
				return classMapHint(err)
			}
			if err := m.Save(out); err != nil {
				return err
			}
			how := "all epochs done"
			if rep.Stopped == "early stop" {
				how = fmt.Sprintf("stopped early: no improvement in %d epochs", earlyStop)
			}
			cli.Infof("saved %s: %s, %d parameters, after %s (%s) in %s",
				out, m.Summary(), m.NumParams(), plural(len(rep.Epochs), "epoch"), how, formatDuration(rep.Seconds))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "training dataset file (required)")
	f.StringVar(&test, "test", "", "test dataset file, evaluated after every epoch (drives --early-stop)")
	f.StringVar(&model, "model", "csnn", "architecture: csnn, mlp, or a JSON file (docs/train.md)")
	f.StringVarP(&out, "output", "o", "", "output model file (.safetensors, required)")
	f.IntVar(&epochs, "epochs", 12, "number of epochs")
	f.IntVar(&batch, "batch", 64, "mini-batch size")
	f.Float64Var(&lr, "lr", 2e-3, "initial learning rate (Adam, cosine decay)")
	f.Float64Var(&lrMin, "lr-min", 0, "final learning rate of the cosine schedule")
	f.Float64Var(&wd, "weight-decay", 0, "decoupled weight decay on weights (AdamW)")
	f.IntVar(&bins, "bins", 10, "time bins per sample (frames(bins=B))")
	f.StringArrayVar(&augment, "augment", nil, "event filters redrawn for every training sample each epoch, e.g. --augment 'drop-event(prob=0.1) | jitter-xy(sigma-x=0.5, sigma-y=0.5)' (keeps the training events in memory: 13 bytes each)")
	f.StringArrayVarP(&specs, "transform", "t", nil, "event filters applied to every sample before binning, e.g. -t 'denoise(dt=5ms)' (repeatable; may end in frames(bins=B); recorded in the model, applied by eval too)")
	f.BoolVar(&binary, "binary", false, "clip per-bin event counts to 1")
	f.IntVar(&hidden, "hidden", 256, "hidden units of the mlp model")
	enumVar(cmd, &loss, "loss", snn.LossCECount, "loss: ce_count, ce_membrane (adds a leaky readout) or mse_count",
		[]string{snn.LossCECount, snn.LossCEMembrane, snn.LossMSECount})
	enumVar(cmd, &surrogate, "surrogate", snn.ATan, "surrogate gradient: atan (α=2), fast_sigmoid (k=25) or triangle",
		[]string{snn.ATan, snn.FastSigmoid, snn.Triangle})
	f.Uint64Var(&seed, "seed", 1, "seed for initialisation and shuffling")
	f.IntVar(&earlyStop, "early-stop", 0, "stop after this many epochs without improvement (0 = never)")
	f.IntVar(&shift, "shift", 1, "augment: translate each training sample by a random ±N pixels per epoch (0 = off)")
	f.IntVar(&workers, "workers", 0, "worker goroutines (0 = all cores, at most 16); the model is the same for any number")
	f.StringVar(&resume, "resume", "", "continue training from this checkpoint")
	f.StringVar(&checkpoint, "checkpoint", "", "checkpoint written after every epoch (default: OUTPUT with .ckpt.safetensors)")
	f.Float64Var(&band, "sparse-grad", 0, "sparse-gradient band: no gradient where |U−θ| exceeds it (0 = exact BPTT)")
	f.BoolVar(&dense, "dense", false, "use the dense reference kernels (slow; for checking)")
	f.BoolVar(&asJSON, "json", false, "print one JSON record per epoch on stdout (docs/train.md lists the fields)")
	f.StringVar(&memory, "memory", "", "memory budget, like 8GiB (default: half of the machine's); a training set whose encoding needs more than a third of it is streamed from disk every epoch")
	f.StringArrayVar(&classMap, "class-map", nil, "score a test-set class the model does not know as one it does: NAME=MODELCLASS (repeatable)")
	forceFlag(cmd, &force)
	rootCmd.AddCommand(cmd)
}

// inputEncoding turns -t specs into the model's input: event filters, then the time bins (a final
// frames(bins=B[, binary=true]) sets them; other representations cannot feed the network).
func inputEncoding(specs []string, enc snn.Encoding, binsGiven bool) (snn.Encoding, error) {
	chain, err := transforms.Parse(specs...)
	if err != nil {
		return enc, cli.Usagef("%v", err)
	}
	if chain.HasRepresentation() {
		rep, err := chain.Representation()
		if err != nil {
			return enc, cli.Usagef("%v", err)
		}
		f, ok := rep.(*transforms.Frames)
		if !ok || f.Mode != transforms.ByTimeBins || f.Compat != transforms.CompatNone || f.OverlapFrac != 0 || f.HasStart || f.HasEnd {
			return enc, cli.Usagef("-t: the network takes frames(bins=B[, binary=true]) of the whole sample; %s cannot feed it",
				chain.Stages[len(chain.Stages)-1].String())
		}
		if binsGiven && (f.Bins != enc.Bins || f.Binary != enc.Binary) {
			return enc, cli.Usagef("-t ends in %s but --bins/--binary say otherwise", chain.Stages[len(chain.Stages)-1].String())
		}
		enc.Bins, enc.Binary = f.Bins, f.Binary
		chain.Stages = chain.Stages[:len(chain.Stages)-1]
	}
	enc.Transforms = chain.String()
	return enc, nil
}
