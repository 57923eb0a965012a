package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/bytesize"
	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/internal/sysmem"
	"github.com/evtool/evtool/snn"
)

// trainTalk is what train tells the user: a progress bar per epoch and per test evaluation (on a
// terminal), one plain line per epoch after a legend line, and with --json one record per epoch on stdout.
type trainTalk struct {
	asJSON bool
	bar    *cli.Progress
	mode   string // what the bar shows: "train" or "test"
	legend bool
	enc    *json.Encoder
}

func newTrainTalk(asJSON bool) *trainTalk {
	t := &trainTalk{asJSON: asJSON}
	if asJSON {
		t.enc = json.NewEncoder(os.Stdout)
	}
	return t
}

// batch moves the epoch's bar (Config.OnBatch).
func (t *trainTalk) batch(b snn.BatchReport) {
	if t.mode != "train" {
		t.close()
		t.bar, t.mode = cli.NewCountProgress(int64(b.Total), "", "samples"), "train"
	}
	if b.Done == 0 {
		t.bar.Describe(fmt.Sprintf("epoch %d/%d", b.Epoch, b.Epochs))
	} else {
		t.bar.Describe(fmt.Sprintf("epoch %d/%d  loss %.4f  accuracy %.2f %%", b.Epoch, b.Epochs, b.Loss, 100*b.Accuracy))
	}
	t.bar.Set(int64(b.Done))
}

// test moves the bar of the evaluation on the test set (Config.OnTest).
func (t *trainTalk) test(done, total int) {
	if t.mode != "test" {
		t.close()
		t.bar, t.mode = cli.NewCountProgress(int64(total), "testing", "samples"), "test"
	}
	t.bar.Set(int64(done))
}

func (t *trainTalk) close() {
	if t.bar != nil {
		t.bar.Done()
		t.bar, t.mode = nil, ""
	}
}

// epoch prints the epoch's line (and before the first one, the legend) and its JSON record.
func (t *trainTalk) epoch(e snn.EpochReport) {
	t.close()
	if t.enc != nil {
		t.enc.Encode(e)
	}
	if !t.legend {
		t.legend = true
		cli.Infof("each epoch: mean loss and accuracy on the training batches, accuracy on the test set, training speed, " +
			"how often each spiking layer's neurons fire (share of neurons spiking per time step, first layer to last), " +
			"learning rate at the epoch's end, time")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d of %d: loss %.4f, training accuracy %.2f %%", e.Epoch, e.Epochs, e.Loss, 100*e.TrainAccuracy)
	if e.TestAccuracy >= 0 {
		fmt.Fprintf(&b, ", test accuracy %.2f %%", 100*e.TestAccuracy)
		if e.Improved {
			b.WriteString(" (best so far)")
		}
	}
	fmt.Fprintf(&b, ", %s samples/s", thousands(e.SamplesPerSec))
	if len(e.SpikeRates) > 0 {
		b.WriteString(", firing")
		for i, r := range e.SpikeRates {
			if i > 0 {
				b.WriteString(" /")
			}
			fmt.Fprintf(&b, " %.1f %%", 100*r.Rate)
		}
	}
	fmt.Fprintf(&b, ", learning rate %.2g, %s", e.LR, formatDuration(e.Seconds))
	cli.Infof("%s", b.String())
}

// loadDataset opens a dataset file for train or eval, with a progress bar on a terminal. A dataset whose
// encoded samples take more than memory bytes is streamed from disk instead (shuffled: a training set).
func loadDataset(ctx context.Context, path string, enc snn.Encoding, keepEvents bool, memory int64, shuffled bool) (*snn.Dataset, error) {
	var bar *cli.Progress
	d, err := snn.OpenDatasetWith(ctx, path, enc, snn.LoadOptions{KeepEvents: keepEvents, Memory: memory, Format: formats.Options{Warn: notices.Add}, Progress: func(done, total int) {
		if bar == nil {
			bar = cli.NewCountProgress(int64(total), "loading "+path, "samples")
		}
		bar.Set(int64(done))
	}})
	if bar != nil {
		bar.Done()
	}
	if err == nil && d.Streamed() {
		how := "read from disk in order for every evaluation"
		if shuffled {
			how = fmt.Sprintf("streamed from disk every epoch, shuffled in blocks of %d samples and a %s shuffle buffer",
				snn.StreamBlock, bytesize.Format(memory))
		}
		cli.Infof("%s encodes to about %s, more than the %s it may hold in memory: %s", path, bytesize.Format(d.Bytes),
			bytesize.Format(memory), how)
	}
	return d, err
}

// memoryBudget is --memory: the size given, or by default half of what the machine (or container)
// has. It also becomes the Go runtime's memory limit, less what the program itself occupies, so that
// the collector keeps the heap inside it.
func memoryBudget(flag string) (int64, error) {
	var budget int64
	if flag == "" {
		budget = sysmem.Total() / 2
		if budget <= 0 {
			budget = 4 << 30
		}
	} else {
		var err error
		if budget, err = bytesize.Parse(flag); err != nil {
			return 0, cli.Usagef("--memory: %v", err)
		}
		if budget < minMemory {
			return 0, cli.Usagef("--memory %s: evtool train needs at least %s", flag, bytesize.Format(minMemory))
		}
	}
	debug.SetMemoryLimit(budget - programMemory)
	return budget, nil
}

// programMemory is what evtool occupies outside the data it holds: its code, the runtime's own and
// what the Go memory limit does not count (evtool --help is 34 MB resident; a streaming train run is
// 52 MB above its heap); minMemory the least budget train runs in.
const (
	programMemory = 64 << 20
	minMemory     = 128 << 20
)

// dataShare is the part of a memory budget that a dataset's samples may hold: a fraction of what the
// program leaves. train gives the training set a third and the test set a sixth; the rest is the
// model's, the readers' and the collector's headroom.
func dataShare(budget int64, fraction int64) int64 { return (budget - programMemory) / fraction }

// parseClassMap reads --class-map NAME=MODELCLASS flags.
func parseClassMap(specs []string) (map[string]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(specs))
	for _, s := range specs {
		from, to, ok := strings.Cut(s, "=")
		if !ok || from == "" || to == "" {
			return nil, cli.Usagef("--class-map %q: want NAME=MODELCLASS", s)
		}
		m[from] = to
	}
	return m, nil
}

// classMapHint adds the flag that fixes an unknown class to the library's error.
func classMapHint(err error) error {
	var u *snn.UnknownClassError
	if errors.As(err, &u) {
		return fmt.Errorf("%w; score it as one of the model's classes with --class-map %s=CLASS", err, u.Class)
	}
	return err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// formatDuration writes seconds as "42.1 s" or "3 min 07 s".
func formatDuration(sec float64) string {
	if sec < 60 {
		return fmt.Sprintf("%.1f s", sec)
	}
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
}

// thousands formats a rate with thousands separators: 12,345.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
