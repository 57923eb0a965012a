package demo

import "github.com/evtool/evtool/formats"

func formatsOptions() formats.Options { return formats.Options{} }
