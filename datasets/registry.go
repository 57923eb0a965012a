// Package datasets knows the public event-camera datasets: where they come from (official URLs and
// published checksums), how their files are laid out, and how labels and splits are defined. Inputs lists
// the samples of a split of an official download, in a deterministic order, as a sources.Plan that
// convert.Run turns into one labelled dataset file per split, reproducibly.
package datasets

import (
	"fmt"
	"sort"
	"strings"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats/prophesee/bbox"
	"github.com/evtool/evtool/internal/suggest"
)

// Layout says how a dataset's files are organised after extraction.
type Layout string

const (
	// ClassFolders: <split folder>/<class>/<sample file>; the label is the class folder's name.
	ClassFolders Layout = "class-folders"
	// DVSGesture: userNN_<lighting>.aedat recordings (AEDAT 3.1) cut into clips by
	// userNN_<lighting>_labels.csv rows; split by trials_to_train.txt / trials_to_test.txt.
	DVSGesture Layout = "dvsgesture"
	// Container: the samples live inside container files (HDF5, .mat) and Definition.Source lists them.
	Container Layout = "container"
	// Detection: <split>/<name>_td.dat (or <name>.raw) recordings with <name>_bbox.npy box labels beside
	// them; a sample is cut at every label time (detection.go).
	Detection Layout = "detection"
)

// Download is one file of a dataset's official distribution.
type Download struct {
	URL  string
	File string // name to save it as
	MD5  string // published checksum (hex), when known
	// SHA256 may be given instead of (or besides) MD5.
	SHA256 string
	// Extract unpacks the file (zip, tar.gz/tgz, tar) after verification; Inner lists archives inside it
	// that are unpacked in turn (N-Caltech101 ships a zip inside a zip).
	Extract bool
	Inner   []string
	// Unpacked is about how many bytes the extracted files take (inner archives included), when
	// known: extraction stops at 1.25 times it (plus 64 MiB). Unknown (0), the bound is 16 times the
	// archive's size, at least 64 MiB — far above what event data compresses to, far below a zip bomb.
	Unpacked int64
}

// Definition describes one dataset.
type Definition struct {
	Name  string // registry name: "nmnist"
	Title string
	// Sensor is the sensor size; zero means "varies per sample": the canvas is the maximum extent over
	// the dataset (N-Caltech101), never a per-sample shift.
	Sensor events.Geometry
	// Classes in label order (label i = Classes[i]). For ClassFolders, Folders maps class → folder name
	// when they differ; nil Classes means "the sorted class folders found".
	Classes []string
	Folders []string
	// BoxClasses names the classes of a detection dataset's boxes (box class i = BoxClasses[i]).
	BoxClasses []string
	Layout     Layout
	// Splits maps a split name ("train", "test") to its folder under the download root. A dataset without
	// an official split has only "all" (or a RatioSplit).
	Splits map[string]string
	// RatioSplit, when > 0, defines train/test inside each class: the first RatioSplit of each class's
	// sorted files are train, the rest test (spikingjelly's 9:1 for CIFAR10-DVS).
	RatioSplit float64
	SplitRule  string // documentation of the split
	LabelRule  string // documentation of where labels come from
	Format     string // the file format's registry name
	Extensions []string
	Downloads  []Download
	// ManualPage is set when the files cannot be fetched automatically: the user downloads ManualFiles
	// from this page.
	ManualPage  string
	ManualFiles []string
	// Source, when set, lists and decodes the samples itself (Layout Container: SHD's HDF5 arrays, one
	// recording per DSEC folder…); see sources.go.
	Source Source
	// ReadParams are the -O options the dataset's files are read with (ASL-DVS: flip-y).
	ReadParams map[string]string
	// Exclude lists base-name patterns (path.Match) of files that are not samples (ST-MNIST's LUT files).
	Exclude  []string
	License  string
	Citation string
	Notes    string
	Samples  string // published sample counts, for the user's reference
}

// Fetchable reports whether `evtool datasets fetch` can download the dataset by itself.
func (d *Definition) Fetchable() bool { return d.ManualPage == "" && len(d.Downloads) > 0 }

// SplitNames returns the split names in a stable order.
func (d *Definition) SplitNames() []string {
	var names []string
	for k := range d.Splits {
		names = append(names, k)
	}
	if d.RatioSplit > 0 {
		names = append(names, "train", "test")
	}
	sort.Strings(names)
	return names
}

var registry = map[string]*Definition{}

func register(d *Definition) { registry[d.Name] = d }

// All returns every dataset definition, sorted by name.
func All() []*Definition {
	out := make([]*Definition, 0, len(registry))
	for _, d := range registry {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup finds a dataset by name (case-insensitive; dashes and underscores ignored).
func Lookup(name string) (*Definition, error) {
	key := normalise(name)
	for _, d := range registry {
		if normalise(d.Name) == key {
			return d, nil
		}
	}
	var names []string
	for _, d := range All() {
		names = append(names, d.Name)
	}
	return nil, fmt.Errorf("unknown dataset %q%s (known: %s)", name, suggest.DidYouMean(name, names), strings.Join(names, ", "))
}

func normalise(s string) string {
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(s))
}

func digits() []string { return []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"} }

func init() {
	register(&Definition{
		Name:       "nmnist",
		Title:      "N-MNIST (Orchard et al. 2015): MNIST digits recorded by an ATIS sensor moved in three saccades",
		Sensor:     events.Geometry{Width: 34, Height: 34},
		Classes:    digits(),
		Layout:     ClassFolders,
		Splits:     map[string]string{"train": "Train", "test": "Test"},
		SplitRule:  "official: Train/ (60,000) and Test/ (10,000)",
		LabelRule:  "the digit folder: Train/<digit>/<id>.bin",
		Format:     "nmnist",
		Extensions: []string{".bin"},
		Downloads: []Download{
			{URL: "https://data.mendeley.com/public-files/datasets/468j46mzdv/files/39c25547-014b-4137-a934-9d29fa53c7a0/file_downloaded",
				File: "train.zip", MD5: "20959b8e626244a1b502305a9e6e2031", Extract: true,
				Unpacked: 60_000 * 4_108 * 5}, // samples × mean events (of the real recordings in the tests) × 5 bytes
			{URL: "https://data.mendeley.com/public-files/datasets/468j46mzdv/files/05a4d654-7e03-4c15-bdfa-9bb2bcbea494/file_downloaded",
				File: "test.zip", MD5: "69ca8762b2fe404d9b9bad1103e97832", Extract: true,
				Unpacked: 10_000 * 4_108 * 5},
		},
		License:  "CC BY-SA 4.0",
		Citation: "G. Orchard, A. Jayawant, G. Cohen, N. Thakor. Converting Static Image Datasets to Spiking Neuromorphic Datasets Using Saccades. Frontiers in Neuroscience 9:437, 2015.",
		Samples:  "60,000 train + 10,000 test; mean 4,108 events per sample",
	})
	register(&Definition{
		Name:       "ncaltech101",
		Title:      "N-Caltech101 (Orchard et al. 2015): Caltech101 images recorded by an ATIS sensor in three saccades",
		Layout:     ClassFolders,
		Splits:     map[string]string{"all": "Caltech101"},
		SplitRule:  "no official split: prepare --split all (evtool never invents one silently)",
		LabelRule:  "the class folder: Caltech101/<class>/image_NNNN.bin (classes sorted by name)",
		Format:     "nmnist",
		Extensions: []string{".bin"},
		Downloads: []Download{
			{URL: "https://data.mendeley.com/public-files/datasets/cy6cvx3ryv/files/36b5c52a-b49d-4853-addb-a836a8883e49/file_downloaded",
				File: "N-Caltech101-archive.zip", MD5: "66201824eabb0239c7ab992480b50ba3", Extract: true,
				Inner: []string{"Caltech101.zip"}},
		},
		License:  "CC BY-SA 4.0",
		Citation: "G. Orchard, A. Jayawant, G. Cohen, N. Thakor. Converting Static Image Datasets to Spiking Neuromorphic Datasets Using Saccades. Frontiers in Neuroscience 9:437, 2015.",
		Notes:    "Sample extents vary; the canvas is the maximum over the dataset and coordinates are never shifted (tonic subtracts each sample's minimum).",
		Samples:  "8,709 samples in 101 classes + BACKGROUND_Google",
	})
	register(&Definition{
		Name:   "dvsgesture",
		Title:  "DVS128 Gesture (Amir et al., CVPR 2017): 11 hand and arm gestures, 29 subjects, 3 lightings",
		Sensor: events.Geometry{Width: 128, Height: 128},
		Classes: []string{"hand clapping", "right hand wave", "left hand wave", "right arm clockwise",
			"right arm counter-clockwise", "left arm clockwise", "left arm counter-clockwise", "arm roll",
			"air drums", "air guitar", "other gestures"},
		Layout:     DVSGesture,
		Splits:     map[string]string{"train": "trials_to_train.txt", "test": "trials_to_test.txt"},
		SplitRule:  "trials_to_train.txt (users 01–23) and trials_to_test.txt (users 24–29); by user number when those files are absent",
		LabelRule:  "each row of userNN_<lighting>_labels.csv is one clip [startTime_usec, endTime_usec); label = class − 1",
		Format:     "aedat3",
		Extensions: []string{".aedat"},
		ManualPage: "https://research.ibm.com/interactive/dvsgesture/ (the original DvsGesture.tar.gz, ~3 GB, on IBM's Box)",
		ManualFiles: []string{"DvsGesture.tar.gz (extract it: userNN_<lighting>.aedat, userNN_<lighting>_labels.csv, " +
			"trials_to_train.txt, trials_to_test.txt)"},
		License:  "CC BY 4.0 (IBM Research)",
		Citation: "A. Amir et al. A Low Power, Fully Event-Based Gesture Recognition System. CVPR 2017.",
		Notes: "The labels CSVs hold 1,464 rows (1,176 train + 288 test) because one class per trial is annotated twice; " +
			"the paper's 1,342 counts one instance per class per trial. --dvsgesture-samples per-class merges rows of the same class " +
			"in a trial into one sample (122 × 11 = 1,342).",
		Samples: "rows: 1,176 train + 288 test; per-class: 1,078 + 264 (= 1,342)",
	})
	register(&Definition{
		Name:   "cifar10dvs",
		Title:  "CIFAR10-DVS (Li et al. 2017): CIFAR-10 images moving on a monitor, recorded by a DVS128",
		Sensor: events.Geometry{Width: 128, Height: 128},
		Classes: []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
			"truck"},
		Layout:      ClassFolders,
		Splits:      map[string]string{"all": "."},
		RatioSplit:  0.9,
		SplitRule:   "no official split; train/test = the first 90 % / last 10 % of each class's files in sorted order (spikingjelly's 9:1)",
		LabelRule:   "the class folder: <class>/cifar10_<class>_N.aedat",
		Format:      "aedat2",
		Extensions:  []string{".aedat"},
		ManualPage:  "https://figshare.com/articles/dataset/CIFAR10-DVS_New/4724671 (the original AEDAT 2.0 recordings, one zip per class)",
		ManualFiles: []string{"airplane.zip … truck.zip, extracted into <class>/ folders"},
		License:     "CC BY 4.0",
		Citation:    "H. Li, H. Liu, X. Ji, G. Li, L. Shi. CIFAR10-DVS: An Event-Stream Dataset for Object Classification. Frontiers in Neuroscience 11:309, 2017.",
		Notes:       "The originals are jAER AEDAT 2.0 (DVS128 layout, decoded with jAER's orientation). tonic serves an AEDAT 4 repack instead.",
		Samples:     "10,000 (1,000 per class)",
	})
	register(&Definition{
		Name:       "pokerdvs",
		Title:      "POKER-DVS (Serrano-Gotarredona & Linares-Barranco 2015): card pips flipped in front of a DVS",
		Sensor:     events.Geometry{Width: 35, Height: 35},
		Classes:    []string{"club", "heart", "diamond", "spade"},
		Folders:    []string{"cl", "he", "di", "sp"},
		Layout:     ClassFolders,
		Splits:     map[string]string{"train": "pips_train", "test": "pips_test"},
		SplitRule:  "as distributed: pips_train/ and pips_test/",
		LabelRule:  "the folder cl|he|di|sp",
		Format:     "npy",
		Extensions: []string{".npy"},
		Downloads: []Download{
			{URL: "https://www.neuromorphic-vision.com/public/downloads/pips_train.tar.gz", File: "pips_train.tar.gz",
				MD5: "412bcfb96826e4fcb290558e8c150aae", Extract: true},
			{URL: "https://www.neuromorphic-vision.com/public/downloads/pips_test.tar.gz", File: "pips_test.tar.gz",
				MD5: "eef2bf7d0d3defae89a6fa98b07c17af", Extract: true},
		},
		License:  "see http://www2.imse-cnm.csic.es/caviar/POKERDVS.html",
		Citation: "T. Serrano-Gotarredona, B. Linares-Barranco. Poker-DVS and MNIST-DVS. Their History, How They Were Made, and Other Details. Frontiers in Neuroscience 9:481, 2015.",
		Samples:  "48 train + 20 test",
	})
	register(&Definition{
		Name:       "gen1",
		Title:      "Prophesee Gen1 Automotive Detection (de Tournemire et al. 2020): cars and pedestrians boxed in 39 h of ATIS driving recordings",
		Sensor:     bbox.Gen1Sensor,
		BoxClasses: bbox.Gen1Classes,
		Layout:     Detection,
		Splits:     map[string]string{"train": "train", "val": "val", "test": "test"},
		SplitRule:  "official: train/, val/ and test/ (60 s recordings)",
		LabelRule: "boxes, not classes: each <name>_bbox.npy row (ts, x, y, w, h, class_id, confidence, track_id) labels " +
			"<name>_td.dat; a sample per label time t holds the events of (t − history, t] (--history, default 50 ms) and the rows of time t; " +
			"ids are <split>/<name>_td.dat@<t>",
		Format:     "dat",
		Extensions: []string{".dat"},
		ManualPage: "https://www.prophesee.ai/2020/01/24/prophesee-gen1-automotive-detection-dataset/ (a form precedes the download)",
		ManualFiles: []string{"the dataset's archives, extracted: train/, val/ and test/ folders of <name>_td.dat recordings " +
			"with <name>_bbox.npy labels (detection_dataset_duration_60s_ratio_1.0/…)"},
		License:  "Prophesee Gen1 Automotive Detection Dataset licence (research, non-commercial)",
		Citation: "P. de Tournemire, D. Nitti, E. Perot, D. Migliore, A. Sironi. A Large Scale Event-based Detection Dataset for Automotive. arXiv:2001.08499, 2020.",
		Notes: "Box classes: 0 car, 1 pedestrian. The DAT files hold 304×240 ATIS events (CD); the boxes keep the labels' " +
			"floating-point coordinates, which may reach past the sensor's edge.",
		Samples: "228,123 car and 27,658 pedestrian boxes (train, val and test together)",
	})
	register(&Definition{
		Name:       "1mpx",
		Title:      "Prophesee 1 Megapixel Automotive Detection (Perot et al., NeurIPS 2020): 7 classes boxed in 14.65 h of 1280×720 recordings",
		Sensor:     bbox.MpxSensor,
		BoxClasses: bbox.MpxClasses,
		Layout:     Detection,
		Splits:     map[string]string{"train": "train", "val": "val", "test": "test"},
		SplitRule:  "official: train/, val/ and test/ (60 s recordings)",
		LabelRule: "boxes, not classes: each <name>_bbox.npy row (t, x, y, w, h, class_id, class_confidence, track_id) labels " +
			"<name>_td.dat (or <name>.raw); a sample per label time t holds the events of (t − history, t] (--history, default 50 ms) " +
			"and the rows of time t; ids are <split>/<recording>@<t>",
		Format:     "dat",
		Extensions: []string{".dat", ".raw"},
		ManualPage: "https://www.prophesee.ai/2020/11/24/automotive-megapixel-event-based-dataset/ (a form precedes the download)",
		ManualFiles: []string{"the dataset's archives, extracted: train/, val/ and test/ folders of <name>_td.dat " +
			"(or <name>.raw) recordings with <name>_bbox.npy labels"},
		License:  "Prophesee 1 Megapixel Automotive Detection Dataset licence (research, non-commercial)",
		Citation: "E. Perot, P. de Tournemire, D. Nitti, J. Masci, A. Sironi. Learning to Detect Objects with a 1 Megapixel Event Camera. NeurIPS 2020.",
		Notes: "Box classes: 0 pedestrian, 1 two wheeler, 2 car, 3 truck, 4 bus, 5 traffic sign, 6 traffic light. Recordings are " +
			"DAT or RAW (EVT 2.0/3.0), read by evtool's Prophesee readers; a group of 256 label times is cut per pass over a recording.",
		Samples: "about 25 million boxes of 7 classes",
	})
	register(&Definition{
		Name:        "ncars",
		Title:       "N-CARS (Sironi et al., CVPR 2018): cars vs background, ATIS crops of 100 ms",
		Sensor:      events.Geometry{Width: 120, Height: 100},
		Classes:     []string{"background", "cars"},
		Layout:      ClassFolders,
		Splits:      map[string]string{"train": "n-cars_train", "test": "n-cars_test"},
		SplitRule:   "official: n-cars_train/ and n-cars_test/",
		LabelRule:   "the folder background|cars",
		Format:      "dat",
		Extensions:  []string{".dat"},
		ManualPage:  "https://www.prophesee.ai/2018/03/13/dataset-n-cars/ (a form precedes the download)",
		ManualFiles: []string{"Prophesee_Dataset_n_cars.zip, extracted: n-cars_train/{background,cars}/*_td.dat and n-cars_test/…"},
		License:     "Prophesee research licence (non-commercial)",
		Citation:    "A. Sironi, M. Brambilla, N. Bourdis, X. Lagorce, R. Benosman. HATS: Histograms of Averaged Time Surfaces for Robust Event-based Object Classification. CVPR 2018.",
		Notes:       "Crops are at most 120×100; the DAT header carries no size, so the dataset's canvas is used.",
		Samples:     "7,940 train + 8,607 test",
	})
}
