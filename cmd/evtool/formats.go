package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/cli"
)

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "formats [NAME]",
		Short: "List the file formats evtool reads and writes (events, and tensors for some), with their -O options",
		Long: `List every file format: its name (for --from and --to), what evtool does with it (read, write,
tensors), its extensions, its --compression codecs and its -O options. With a NAME, show that format only.`,
		Example: `  evtool formats
  evtool formats aedat4`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return formats.Names(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			list := formats.All()
			if len(args) == 1 {
				f, err := formats.Lookup(args[0])
				if err != nil {
					return cli.Usage(err)
				}
				list = []*formats.Format{f}
			}
			for _, f := range list {
				printFormat(os.Stdout, f)
			}
			return nil
		},
	})
}

// printFormat writes one format's entry of `evtool formats`.
func printFormat(w io.Writer, f *formats.Format) {
	var can []string
	if f.NewReader != nil {
		can = append(can, "read")
	}
	if f.Create != nil {
		can = append(can, "write")
	}
	if f.Tensors != nil {
		can = append(can, "tensors")
	}
	fmt.Fprintf(w, "%-10s %-18s %-22s %s\n", f.Name, strings.Join(can, "/"), strings.Join(f.Extensions, " "), f.Description)
	if len(f.Compressions) > 0 {
		fmt.Fprintf(w, "           --compression: %s (default), %s\n", f.Compressions[0], strings.Join(f.Compressions[1:], ", "))
	}
	printParams(w, f.Params, "")
	if f.Tensors != nil {
		printParams(w, f.Tensors.Params, "tensors: ")
	}
}

// printParams lists a format's -O options, sorted, each help after what (events' or tensors').
func printParams(w io.Writer, params map[string]string, what string) {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%11s-O %s: %s%s\n", "", k, what, params[k])
	}
}
