package shards

import (
	"strings"
	"testing"

	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/evarrow"
	_ "github.com/evtool/evtool/formats/parquet"
)

var defaultOptions = formats.Options{}

// The parts tile the units in order, each within one unit of n/N.
func TestPartRange(t *testing.T) {
	for _, n := range []int{0, 1, 5, 60, 1001} {
		for _, count := range []int{1, 2, 3, 4, 7, 64, 2000} {
			next := 0
			for i := 0; i < count; i++ {
				lo, hi := Part{Index: i, Count: count}.Range(n)
				if lo != next || hi < lo || hi-lo > n/count+1 || hi-lo < n/count {
					t.Fatalf("part %d/%d of %d: [%d, %d) after %d", i, count, n, lo, hi, next)
				}
				next = hi
			}
			if next != n {
				t.Fatalf("%d parts of %d end at %d", count, n, next)
			}
		}
	}
	if lo, hi := (Part{}).Range(9); lo != 0 || hi != 9 {
		t.Fatalf("the whole is [%d, %d)", lo, hi)
	}
}

func TestParsePart(t *testing.T) {
	if p, err := ParsePart(" 3/16 "); err != nil || p != (Part{3, 16}) || p.String() != "3/16" {
		t.Fatalf("ParsePart(3/16) = %v, %v", p, err)
	}
	for _, bad := range []string{"", "3", "16/16", "-1/4", "1/0", "a/b", "1/4/5"} {
		if _, err := ParsePart(bad); err == nil {
			t.Errorf("ParsePart(%q) accepted", bad)
		}
	}
}

func TestPartFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		env   func(string) string
		count int
		want  Part
		err   string
	}{
		{env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "0"), 0, Part{2, 4}, ""},
		{env("SLURM_ARRAY_TASK_ID", "3", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "1"), 0, Part{2, 4}, ""},
		{env("SLURM_ARRAY_TASK_ID", "6", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_STEP", "2"), 0, Part{3, 4}, ""},
		{env("SLURM_ARRAY_TASK_ID", "5", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_STEP", "2"), 0, Part{}, "not in the array"},
		{env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "4"), 0, Part{}, "the array has 4 tasks"},
		{env("SLURM_ARRAY_TASK_ID", "1", "SLURM_ARRAY_TASK_COUNT", "4"), 8, Part{1, 8}, ""},
		// A task resubmitted alone (sbatch --array=2): with the count, the task id is the part.
		{env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "1", "SLURM_ARRAY_TASK_MIN", "2"), 4, Part{2, 4}, ""},
		{env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "4"), 4, Part{}, "not a part of 4"},
		{env("SLURM_ARRAY_TASK_ID", "x"), 0, Part{}, "not a number"},
		{env("JOB_COMPLETION_INDEX", "5"), 8, Part{5, 8}, ""},
		{env("JOB_COMPLETION_INDEX", "5"), 0, Part{}, "not the number of parts"},
		{env("JOB_COMPLETION_INDEX", "8"), 8, Part{}, "outside the 8 parts"},
		{env(), 4, Part{}, "no array job"},
	} {
		got, err := PartFromEnv(c.env, c.count)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("want an error saying %q, got %v, %v", c.err, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("got %v, %v; want %v", got, err, c.want)
		}
	}
}
