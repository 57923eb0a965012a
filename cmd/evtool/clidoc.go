package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// writeReference renders the command tree as Markdown (docs/cli.md is this output).
func writeReference(w io.Writer, cmd *cobra.Command, depth int) {
	if cmd.Hidden || (!cmd.IsAvailableCommand() && cmd != rootCmd) {
		return
	}
	fmt.Fprintf(w, "%s %s\n\n", strings.Repeat("#", min(depth+1, 4)), cmd.CommandPath())
	if cmd.Name() == "completion" { // cobra's own text: one line is enough here
		fmt.Fprintf(w, "%s: `evtool completion bash|zsh|fish|powershell` (see `evtool completion --help`).\n\n", cmd.Short)
		return
	}
	desc := cmd.Long
	if desc == "" {
		desc = cmd.Short
	}
	fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(desc))
	if cmd.Runnable() {
		fmt.Fprintf(w, "```\n%s\n```\n\n", cmd.UseLine())
	}
	if cmd.Example != "" {
		fmt.Fprintf(w, "Examples:\n\n```\n%s\n```\n\n", strings.TrimRight(cmd.Example, "\n"))
	}
	if fl := cmd.NonInheritedFlags().FlagUsages(); fl != "" && cmd.Runnable() {
		fmt.Fprintf(w, "Flags:\n\n```\n%s```\n\n", fl)
	}
	for _, c := range cmd.Commands() {
		if c.Name() == "help" {
			continue
		}
		writeReference(w, c, depth+1)
	}
}

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:    "cli-reference",
		Short:  "Print the CLI reference as Markdown (docs/cli.md)",
		Hidden: true,
		Args:   cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintln(os.Stdout, "# evtool command reference\n\nGenerated from the commands themselves (`evtool cli-reference`); global flag: `-q, --quiet`.")
			fmt.Fprintln(os.Stdout)
			writeReference(os.Stdout, rootCmd, 1)
		},
	})
}
