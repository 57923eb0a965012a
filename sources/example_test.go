package sources_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
	_ "github.com/evtool/evtool/formats/all"
	"github.com/evtool/evtool/formats/csv"
	"github.com/evtool/evtool/sources"
)

// A folder of sample files in class folders is a labelled dataset, in sorted path order.
func ExampleDiscover() {
	dir, _ := os.MkdirTemp("", "sources-example")
	defer os.RemoveAll(dir)
	for _, rel := range []string{"cat/b.csv", "cat/a.csv", "dog/c.csv"} {
		path := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(path), 0o755)
		w, _ := csv.Create(path, events.Meta{}, formats.Options{})
		w.Write(events.FromEvents(events.Event{T: 1, X: 2, Y: 3, P: 1}))
		w.Close()
	}
	plan, err := sources.Discover([]string{dir}, "")
	if err != nil {
		panic(err)
	}
	fmt.Println(plan.Classes)
	for _, it := range plan.Items {
		fmt.Println(it.ID, it.Label, it.Format.Name)
	}
	// Output:
	// [cat dog]
	// cat/a.csv 0 csv
	// cat/b.csv 0 csv
	// dog/c.csv 1 csv
}
