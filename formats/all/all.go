// Package all registers every file format evtool ships. Import it for its side effect.
package all

import (
	_ "github.com/evtool/evtool/formats/aedat"
	_ "github.com/evtool/evtool/formats/aedat4"
	_ "github.com/evtool/evtool/formats/csv"
	_ "github.com/evtool/evtool/formats/es"
	_ "github.com/evtool/evtool/formats/evarrow"
	_ "github.com/evtool/evtool/formats/hdf5"
	_ "github.com/evtool/evtool/formats/mat"
	_ "github.com/evtool/evtool/formats/nmnist"
	_ "github.com/evtool/evtool/formats/npy"
	_ "github.com/evtool/evtool/formats/parquet"
	_ "github.com/evtool/evtool/formats/prophesee"
	_ "github.com/evtool/evtool/formats/rosbag"
	_ "github.com/evtool/evtool/formats/shards"

	"github.com/evtool/evtool/formats"
)

func init() { formats.RegisteredAll() }
