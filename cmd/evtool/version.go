package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise the module version is used.
var version = ""

func versionString() string {
	v := version
	if v == "" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v
}

// versionDetail is the root command's Version: cobra prints "evtool version " and it for --version.
func versionDetail() string {
	return fmt.Sprintf("%s (%s, %s/%s)", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// versionLine is what `evtool version` prints: the same line as `evtool --version`.
func versionLine() string { return "evtool version " + versionDetail() }

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print evtool's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Println(versionLine())
		},
	})
}
