package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/convert"
	"github.com/evtool/evtool/internal/cli"
	"github.com/evtool/evtool/internal/suggest"
	"github.com/evtool/evtool/transforms"
)

// Registered during package variable initialisation, which runs before every init function, so that
// convert's and datasets prepare's init (in files sorting before this one) see the hook.
var _ = func() bool {
	convertHooks = append(convertHooks, transformFlags)
	return true
}()

// transformFlags adds -t/--transform and --seed to a verb and turns them into a chain.
func transformFlags(cmd *cobra.Command) func(o *convert.Options) error {
	var specs []string
	var seed uint64
	cmd.Flags().StringArrayVarP(&specs, "transform", "t", nil, "apply a transform, e.g. -t 'denoise(dt=10ms)' (repeatable, in order; see: evtool transforms)")
	cmd.RegisterFlagCompletionFunc("transform", transformCompletion)
	cmd.Flags().Uint64Var(&seed, "seed", 0, "seed of the random transforms (each sample draws from hash(seed, sample id, stage))")
	return func(o *convert.Options) error {
		if len(specs) == 0 {
			return nil
		}
		chain, err := transforms.Parse(specs...)
		if err != nil {
			return cli.Usagef("%v", err)
		}
		chain.NewTally() // counts per stage, printed after the conversion
		o.Chain, o.Seed = chain, seed
		return nil
	}
}

func init() {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "transforms [NAME]",
		Short: "List every transform with its parameters, units and defaults",
		Long: `Transforms are given with -t to evtool convert and evtool datasets prepare, one per flag or several
joined with '|':  -t 'denoise(dt=10ms)' -t 'crop(x0=2, y0=2, w=30, h=30)'. Durations take us, ms or s.
With a NAME, show that transform only. Semantics: docs/transforms.md.`,
		Example: `  evtool transforms
  evtool transforms denoise`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, d := range transforms.Defs() {
				names = append(names, d.Name)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if markdown {
				fmt.Print(transformsMarkdown())
				return nil
			}
			defs := transforms.Defs()
			if len(args) == 1 {
				d, err := transformDef(args[0])
				if err != nil {
					return err
				}
				defs = []*transforms.Def{d}
			}
			w := os.Stdout
			for _, d := range defs {
				kind := "filter"
				if d.Rep != nil {
					kind = "tensor"
				}
				fmt.Fprintf(w, "%s (%s)\n    %s\n", d.Name, kind, d.Help)
				for _, p := range d.Params {
					fmt.Fprintf(w, "    %-20s %-8s default %-8s %s\n", p.Name, unitOf(p), defaultOf(p), helpOf(p))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print the list as a Markdown table (docs/transforms.md)")
	rootCmd.AddCommand(cmd)
}

// transformDef finds a transform by name.
func transformDef(name string) (*transforms.Def, error) {
	var names []string
	for _, d := range transforms.Defs() {
		if d.Name == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	return nil, cli.Usagef("unknown transform %q%s (evtool transforms lists them)", name, suggest.DidYouMean(name, names))
}

func unitOf(p transforms.Param) string {
	if p.Unit == "" {
		return "-"
	}
	return p.Unit
}

func defaultOf(p transforms.Param) string {
	if p.Default == "" {
		return "-"
	}
	return p.Default
}

func helpOf(p transforms.Param) string {
	h := p.Help
	if len(p.Choices) > 0 {
		h = strings.TrimSpace(h + " (" + strings.Join(p.Choices, " | ") + ")")
	}
	return h
}

func transformsMarkdown() string {
	var b strings.Builder
	b.WriteString("| transform | parameter | unit | default | meaning |\n|---|---|---|---|---|\n")
	for _, d := range transforms.Defs() {
		fmt.Fprintf(&b, "| **%s** | | | | %s |\n", d.Name, d.Help)
		for _, p := range d.Params {
			fmt.Fprintf(&b, "| | `%s` | %s | %s | %s |\n", p.Name, unitOf(p), defaultOf(p), helpOf(p))
		}
	}
	return b.String()
}

// reportTally prints each filter stage's event counts after a conversion.
func reportTally(c *transforms.Chain) {
	if c == nil || c.Tally == nil {
		return
	}
	for _, l := range c.Tally.Lines() {
		cli.Infof("  %s", l)
	}
}
