package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evtool/evtool/datasets"
	"github.com/evtool/evtool/formats"
	"github.com/evtool/evtool/internal/suggest"
	"github.com/evtool/evtool/transforms"
)

// Flags whose values come from a fixed set are checked as they are parsed, so a wrong value is bad
// usage (exit 2) with the closest values suggested, and shell completion offers the values.

// enumValue is a flag that takes one of choices.
type enumValue struct {
	p       *string
	choices []string
}

func (e *enumValue) String() string { return *e.p }
func (e *enumValue) Type() string   { return "string" }
func (e *enumValue) Set(v string) error {
	for _, c := range e.choices {
		if spelling(c) == spelling(v) {
			*e.p = c
			return nil
		}
	}
	return fmt.Errorf("want %s%s", formats.List(e.choices), suggest.DidYouMean(v, e.choices))
}

// spelling folds the ways a value may be written: case, and hyphens or underscores between its words
// (fast-sigmoid, fast_sigmoid and fastsigmoid are one value; the help prints one spelling).
func spelling(s string) string {
	return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(s))
}

// enumVar adds a flag that takes one of choices, def being the default.
func enumVar(cmd *cobra.Command, p *string, name, def, usage string, choices []string) {
	*p = def
	cmd.Flags().Var(&enumValue{p: p, choices: choices}, name, usage)
	cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(choices, cobra.ShellCompDirectiveNoFileComp))
}

// formatValue is a flag that names a registered format: one that reads (--from) or writes (--to).
type formatValue struct {
	p     *string
	write bool
}

func (f *formatValue) String() string { return *f.p }
func (f *formatValue) Type() string   { return "format" }
func (f *formatValue) Set(v string) error {
	fm, err := formats.Lookup(v)
	if err != nil {
		return err
	}
	if f.write && fm.Create == nil && fm.Tensors == nil {
		return fmt.Errorf("format %s cannot be written (writable: %s)", fm.Name, strings.Join(formatNames(true), ", "))
	}
	if !f.write && fm.NewReader == nil && fm.Tensors == nil {
		return fmt.Errorf("format %s cannot be read", fm.Name)
	}
	*f.p = fm.Name
	return nil
}

// formatVar adds a flag that names a format.
func formatVar(cmd *cobra.Command, p *string, name, usage string, write bool) {
	cmd.Flags().Var(&formatValue{p: p, write: write}, name, usage)
	cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return formatNames(write), cobra.ShellCompDirectiveNoFileComp
	})
}

// formatNames lists the formats that write (or read).
func formatNames(write bool) []string {
	var names []string
	for _, f := range formats.All() {
		if (write && (f.Create != nil || f.Tensors != nil)) || (!write && (f.NewReader != nil || f.Tensors != nil)) {
			names = append(names, f.Name)
		}
	}
	return names
}

// datasetNames completes a dataset name argument.
func datasetNames(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, d := range datasets.All() {
		names = append(names, cobra.CompletionWithDesc(d.Name, d.Title))
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// transformCompletion completes the last stage of a -t chain with transform names.
func transformCompletion(_ *cobra.Command, _ []string, typed string) ([]cobra.Completion, cobra.ShellCompDirective) {
	head := ""
	if i := strings.LastIndex(typed, "|"); i >= 0 {
		head = typed[:i+1] + " "
	}
	var out []string
	for _, d := range transforms.Defs() {
		out = append(out, cobra.CompletionWithDesc(head+d.Name, d.Help))
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}
