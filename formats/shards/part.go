package shards

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Part is one of Count contiguous parts of a dataset's inputs, in their sorted order: array jobs on a
// cluster each take one, and the parts in index order make the whole dataset. The zero value is the whole.
type Part struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Whole reports whether p is no split at all (the zero Part). Part 0 of 1 is a split into one part: its
// files are named as a part's, and a merge makes the dataset.
func (p Part) Whole() bool { return p.Count == 0 }

// Range is the part of n units that p takes: [lo, hi), the same for every caller, sized within one unit
// of n/Count.
func (p Part) Range(n int) (lo, hi int) {
	if p.Count < 1 {
		return 0, n
	}
	return int(int64(p.Index) * int64(n) / int64(p.Count)), int(int64(p.Index+1) * int64(n) / int64(p.Count))
}

func (p Part) String() string {
	if p.Whole() {
		return "all"
	}
	return fmt.Sprintf("%d/%d", p.Index, p.Count)
}

// ParsePart reads "i/N" (0 ≤ i < N).
func ParsePart(s string) (Part, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Part{}, fmt.Errorf("part %q: want i/N with 0 <= i < N, like 3/16", s)
	}
	return Part{Index: i, Count: n}, nil
}

// PartFromEnv finds this process's part in the environment of an array job: Slurm's
// SLURM_ARRAY_TASK_ID (counted from SLURM_ARRAY_TASK_MIN in steps of SLURM_ARRAY_TASK_STEP) of
// SLURM_ARRAY_TASK_COUNT — or, given count, part SLURM_ARRAY_TASK_ID of count, so that a task rerun
// alone keeps its part —, else a Kubernetes Indexed Job's JOB_COMPLETION_INDEX of count (a Job does not
// tell its number of completions; count ≤ 0 means not given). getenv is os.Getenv unless testing.
func PartFromEnv(getenv func(string) string, count int) (Part, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	num := func(key string, def int) (int, error) {
		v := strings.TrimSpace(getenv(key))
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("environment variable %s=%q is not a number", key, v)
		}
		return n, nil
	}
	if getenv("SLURM_ARRAY_TASK_ID") != "" {
		id, err := num("SLURM_ARRAY_TASK_ID", 0)
		if err != nil {
			return Part{}, err
		}
		first, err := num("SLURM_ARRAY_TASK_MIN", 0)
		if err != nil {
			return Part{}, err
		}
		step, err := num("SLURM_ARRAY_TASK_STEP", 1)
		if err != nil {
			return Part{}, err
		}
		if count > 0 {
			// The task id is the part: a task resubmitted alone (sbatch --array=2) redoes its own part.
			if id < 0 || id >= count {
				return Part{}, fmt.Errorf("array task SLURM_ARRAY_TASK_ID=%d is not a part of %d (with a number of parts, the task ids are the parts 0 … %d)", id, count, count-1)
			}
			return Part{Index: id, Count: count}, nil
		}
		n, err := num("SLURM_ARRAY_TASK_COUNT", 0)
		if err != nil {
			return Part{}, err
		}
		if step < 1 || id < first || (id-first)%step != 0 {
			return Part{}, fmt.Errorf("array task SLURM_ARRAY_TASK_ID=%d is not in the array %d, %d, … (step %d)", id, first, first+step, step)
		}
		i := (id - first) / step
		if n < 1 || i >= n {
			return Part{}, fmt.Errorf("array task SLURM_ARRAY_TASK_ID=%d is number %d of the array, but the array has %d tasks", id, i, n)
		}
		return Part{Index: i, Count: n}, nil
	}
	if getenv("JOB_COMPLETION_INDEX") != "" {
		i, err := num("JOB_COMPLETION_INDEX", 0)
		if err != nil {
			return Part{}, err
		}
		if count < 1 {
			return Part{}, fmt.Errorf("the environment gives JOB_COMPLETION_INDEX=%d but not the number of parts (the Kubernetes Job's completions)", i)
		}
		if i < 0 || i >= count {
			return Part{}, fmt.Errorf("the environment's JOB_COMPLETION_INDEX=%d is outside the %d parts", i, count)
		}
		return Part{Index: i, Count: count}, nil
	}
	return Part{}, fmt.Errorf("no array job in the environment (neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set)")
}
