//go:build !linux && !darwin && !windows

package sysmem

func physical() int64       { return 0 }
func containerLimit() int64 { return 0 }
