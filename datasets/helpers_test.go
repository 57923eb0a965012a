package datasets

import (
	"sort"
	"time"

	"github.com/evtool/evtool/convert"
)

type convertItem = convert.Item

var fixedTime = time.Unix(1700000000, 0)

func sortStable(idx []int, less func(i, j int) bool) { sort.SliceStable(idx, less) }
