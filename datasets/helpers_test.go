package datasets

import (
	"context"
	"sort"
	"time"

	"github.com/evtool/evtool/convert"
)

var fixedTime = time.Unix(1700000000, 0)

func sortStable(idx []int, less func(i, j int) bool) { sort.SliceStable(idx, less) }

// prepare does what `evtool datasets prepare` does: a split's inputs, converted into one dataset file.
func prepare(def *Definition, from, out string, sel Selection, workers int) (*convert.Result, error) {
	plan, err := Inputs(def, from, sel)
	if err != nil {
		return nil, err
	}
	return convert.Run(context.Background(), plan, out, convert.Options{Workers: workers})
}
