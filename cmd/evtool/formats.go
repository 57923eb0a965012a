package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/formats"
)

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "formats",
		Short: "List the file formats evtool reads and writes (events, and tensors for some), with their -O options",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := os.Stdout
			for _, f := range formats.All() {
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
				keys := make([]string, 0, len(f.Params))
				for k := range f.Params {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					fmt.Fprintf(w, "%11s-O %s: %s\n", "", k, f.Params[k])
				}
			}
			return nil
		},
	})
}
