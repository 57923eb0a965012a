package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/formats/shards"
	"github.com/evtool/evtool/internal/bytesize"
	"github.com/evtool/evtool/internal/cli"
)

// Registered during package variable initialisation, before every init function, so that convert's and
// datasets prepare's init see the hook (as transforms.go does).
var _ = func() bool {
	convertHooks = append(convertHooks, shardHook)
	return true
}()

// shardFlags are the flags of the verbs that write a dataset (convert, datasets prepare, synth): a folder
// of shards instead of one file, and one part of an array job.
type shardFlags struct {
	format    string
	size      int
	bytes     string
	part      string
	count     int
	partition []string
}

func (sf *shardFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&sf.format, "shard-format", "", "the shards' format: arrow (default) or parquet")
	f.IntVar(&sf.size, "shard-size", 0, "write -o FOLDER as shards of N samples each plus a manifest.json (see docs/cluster.md)")
	f.StringVar(&sf.bytes, "shard-bytes", "", "write -o FOLDER as shards of about SIZE each (512MiB, 2GB) plus a manifest.json")
	f.StringVar(&sf.part, "shard", "", "process part i/N of the inputs only (cluster array jobs); 'auto' reads i/N from SLURM_ARRAY_TASK_ID/_COUNT, or JOB_COMPLETION_INDEX with --shard-count; parts share -o FOLDER, then: evtool datasets merge FOLDER")
	f.IntVar(&sf.count, "shard-count", 0, "the number of parts N of --shard auto: a Kubernetes Indexed Job's completions; under Slurm, the array task id is then the part (a task can be rerun alone)")
	f.StringSliceVar(&sf.partition, "partition", nil, "hive-style folders for DuckDB, polars, Spark: label (one label=K/ folder per label), split (the dataset in split=SPLIT/) or KEY=VALUE")
}

// shardHook adds the shard flags to convert and datasets prepare.
func shardHook(cmd *cobra.Command) func(o *convert.Options) error {
	var sf shardFlags
	sf.register(cmd)
	return func(o *convert.Options) error {
		split := ""
		if fl := cmd.Flags().Lookup("split"); fl != nil {
			split = fl.Value.String()
		}
		to, part, err := sf.apply(cmd.Flags().Lookup("output").Value.String(), o.To, split, &o.Format)
		if err != nil {
			return err
		}
		o.To, o.Part = to, part
		return nil
	}
}

// part is the part of the inputs to process: --shard i/N, or auto from the environment.
func (sf *shardFlags) parsePart() (shards.Part, error) {
	switch sf.part {
	case "":
		if sf.count != 0 {
			return shards.Part{}, cli.Usagef("--shard-count goes with --shard auto")
		}
		return shards.Part{}, nil
	case "auto":
		if sf.count < 0 {
			return shards.Part{}, cli.Usagef("--shard-count %d: want a positive number of parts", sf.count)
		}
		p, err := shards.PartFromEnv(nil, sf.count)
		if err != nil {
			return p, cli.Usagef("--shard auto: %v", err)
		}
		return p, nil
	}
	p, err := shards.ParsePart(sf.part)
	if err != nil {
		return p, cli.Usagef("--shard: %v", err)
	}
	if sf.count != 0 && sf.count != p.Count {
		return p, cli.Usagef("--shard %s and --shard-count %d disagree", sf.part, sf.count)
	}
	return p, nil
}

// apply turns the flags into the output the registry writes: to becomes "shards" (with the shard format,
// sizes, part and partitions in fo's parameters) when the output is a folder of shards. The part is
// returned for the verb to select its inputs. split is the verb's --split ("" when it has none).
func (sf *shardFlags) apply(out, to, split string, fo *formats.Options) (string, shards.Part, error) {
	part, err := sf.parsePart()
	if err != nil {
		return to, part, err
	}
	fileFormat, fileErr := formats.OutputFormat(out, "")
	folder := sf.format != "" || sf.size != 0 || sf.bytes != "" || len(sf.partition) > 0 || (!part.Whole() && fileErr != nil)
	if !folder {
		return to, part, nil
	}
	if out == "" {
		return to, part, cli.Usagef("sharded output needs -o FOLDER")
	}
	if to == "shards" {
		to = ""
	}
	shardFormat := sf.format
	if shardFormat == "" {
		shardFormat = to // convert: --to parquet with --shard-size
	}
	if shardFormat == "" {
		shardFormat = "arrow"
		if fileErr == nil && fileFormat.Index == "" {
			shardFormat = fileFormat.Name // -o train.parquet: a folder of Parquet shards
		}
	}
	p := map[string]string{}
	for k, v := range fo.Params {
		p[k] = v
	}
	p["shard-format"] = shardFormat
	if sf.size < 0 {
		return to, part, cli.Usagef("--shard-size %d: want a positive number of samples", sf.size)
	}
	if sf.size > 0 {
		p["shard-size"] = strconv.Itoa(sf.size)
	}
	if sf.bytes != "" {
		if _, err := bytesize.Parse(sf.bytes); err != nil {
			return to, part, cli.Usagef("--shard-bytes: %v", err)
		}
		p["shard-bytes"] = sf.bytes
	}
	if !part.Whole() {
		p["part"] = part.String()
	}
	var keys []string
	label := false
	for _, k := range sf.partition {
		switch k = strings.TrimSpace(k); {
		case k == "label":
			label = true
		case k == "split":
			if split == "" || split == "all" {
				return to, part, cli.Usagef("--partition split needs one split: give --split train or test (and run once per split: they share -o FOLDER), or --partition split=NAME")
			}
			keys = append(keys, "split="+split)
		case strings.Contains(k, "="):
			keys = append(keys, k)
		default:
			return to, part, cli.Usagef("--partition %q: want label, split or KEY=VALUE", k)
		}
	}
	if label {
		keys = append(keys, "label")
	}
	if len(keys) > 0 {
		p["partition"] = strings.Join(keys, ",")
	}
	if _, err := shards.OptionsFrom(formats.Options{Params: p}); err != nil {
		return to, part, cli.Usagef("%v", err)
	}
	fo.Params = p
	return "shards", part, nil
}

// partNote tells, after a part was written into a shared folder, how to join the parts.
func partNote(o convert.Options, out string) {
	if !o.Part.Whole() && o.To == "shards" {
		cli.Infof("part %s is in %s; once every part is: evtool datasets merge %s", o.Part, out, out)
	}
}

// removeOutput deletes what a conversion wrote, after a later step failed: the file, the sharded
// dataset, or this job's part of a shared folder.
func removeOutput(o convert.Options, out string) {
	if o.To != "shards" {
		os.Remove(out)
		return
	}
	so, err := shards.OptionsFrom(o.Format)
	if err != nil {
		return
	}
	shards.Remove(filepath.Join(append([]string{out}, so.Within...)...), so.Part)
}

// newMergeCommand is `evtool datasets merge`.
func newMergeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "merge FOLDER | merge OUT PARTS...",
		Short: "Join the parts that array jobs wrote (or whole datasets) into one sharded dataset, without copying",
		Long: `Write the manifest.json that makes one dataset of parts: the folder that the jobs of an array wrote into
with --shard i/N (part-00001-of-00004.json …), or several folders or part manifests. Every part must be
there exactly once and all must agree on classes, sensor, transforms, shard format, partitioning and
boxes (all with boxes of the same classes, or none); each shard must be present with its recorded size. Whole datasets (shard folders, Arrow or Parquet
dataset files) join in the order given. Nothing is copied: the manifest points at the files where
they are. Every verb then reads OUT as one dataset (evtool info --verify OUT checks the checksums).`,
		Example: `  evtool datasets prepare nmnist --from data/nmnist -o nmnist/ --shard 0/2   # array task 0
  evtool datasets prepare nmnist --from data/nmnist -o nmnist/ --shard 1/2   # array task 1
  evtool datasets merge nmnist/
  evtool datasets merge both/ nmnist/manifest.json train.arrow             # datasets joined in this order`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := shards.Merge(args[0], args[1:])
			if err != nil {
				return err
			}
			var bytes int64
			for _, s := range m.Shards {
				bytes += s.Bytes
			}
			cli.Infof("wrote %s: %d samples, %d events, %d classes, %d shards (%s of %s)", formats.Resolve(args[0]),
				m.Samples, m.Events, len(m.Classes), len(m.Shards), bytesize.Format(bytes), m.Format)
			return nil
		},
	}
}

// verifyNote says that --verify had nothing to check on a file that is not a sharded dataset.
func verifyNote(path string) {
	if f, err := formats.Detect(path); err == nil && f.Index == "" {
		cli.Infof("%s: no checksums to verify (--verify checks the shards of a sharded dataset)", path)
	}
}
