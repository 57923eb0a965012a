// Package sysmem tells how much memory this process may use: the machine's physical memory, or less
// where a container's (cgroup's) limit says so. train sizes its default memory budget from it.
package sysmem

// Total returns the memory available to this process in bytes, or 0 when the system does not tell.
func Total() int64 {
	n := physical()
	if l := containerLimit(); l > 0 && (n == 0 || l < n) {
		n = l
	}
	return n
}
