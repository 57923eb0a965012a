package datasets

import "github.com/evtool/evtool/events"

// The datasets kept in container files (HDF5, MATLAB .mat) and NumPy arrays: audio spike trains (SHD,
// SSC, N-TIDIGITS18), tactile and sign-language recordings (ST-MNIST, ASL-DVS), eye tracking (ThreeET),
// space imaging (EBSSA), driving (DSEC) and lip reading (DVS-Lip).

func letters(skip string) []string {
	var out []string
	for c := 'a'; c <= 'z'; c++ {
		if !containsRune(skip, c) {
			out = append(out, string(c))
		}
	}
	return out
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}

const heidelbergCitation = "B. Cramer, Y. Stradmann, J. Schemmel, F. Zenke. The Heidelberg Spiking Data Sets for the Systematic Evaluation of Spiking Neural Networks. IEEE Transactions on Neural Networks and Learning Systems 33(7):2744–2757, 2022."

const spikeTrainNote = "x = the unit (cochlea channel), y = 0, one polarity (p = 1). Times are float seconds, rounded to the nearest µs (tonic truncates, so its times can be 1 µs earlier)."

var dvsLipWords = []string{"accused", "action", "allow", "allowed", "america", "american", "another", "around",
	"attacks", "banks", "become", "being", "benefit", "benefits", "between", "billion", "called", "capital",
	"challenge", "change", "chief", "couple", "court", "death", "described", "difference", "different", "during",
	"economic", "education", "election", "england", "evening", "everything", "exactly", "general", "germany",
	"giving", "ground", "happen", "happened", "having", "heavy", "house", "hundreds", "immigration", "judge",
	"labour", "leaders", "legal", "little", "london", "majority", "meeting", "military", "million", "minutes",
	"missing", "needs", "number", "numbers", "paying", "perhaps", "point", "potential", "press", "price",
	"question", "really", "right", "russia", "russian", "saying", "security", "several", "should", "significant",
	"spend", "spent", "started", "still", "support", "syria", "syrian", "taken", "taking", "terms", "these",
	"thing", "think", "times", "tomorrow", "under", "warning", "water", "welcome", "words", "worst", "years", "young"}

func init() {
	register(&Definition{
		Name:   "shd",
		Title:  "Spiking Heidelberg Digits (Cramer et al. 2020): spoken digits in English and German through a 700-channel cochlea model",
		Sensor: events.Geometry{Width: 700, Height: 1},
		Classes: []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
			"null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun"},
		Layout:    Container,
		Source:    h5Samples{Files: map[string]string{"train": "shd_train.h5", "test": "shd_test.h5"}},
		Splits:    map[string]string{"train": "shd_train.h5", "test": "shd_test.h5"},
		SplitRule: "official: shd_train.h5 and shd_test.h5",
		LabelRule: "labels[i] of the split's file; the class names are its extra/keys",
		Format:    "hdf5",
		Downloads: []Download{
			{URL: "https://zenkelab.org/datasets/shd_train.h5.zip", File: "shd_train.h5.zip", MD5: "f3252aeb598ac776c1b526422d90eecb", Extract: true},
			{URL: "https://zenkelab.org/datasets/shd_test.h5.zip", File: "shd_test.h5.zip", MD5: "1503a5064faa34311c398fb0a1ed0a6f", Extract: true},
		},
		License:  "CC BY 4.0",
		Citation: heidelbergCitation,
		Notes:    "Each sample is element i of spikes/times (float16 s) and spikes/units (uint16). " + spikeTrainNote,
		Samples:  "8,156 train + 2,264 test",
	})
	register(&Definition{
		Name:      "ssc",
		Title:     "Spiking Speech Commands (Cramer et al. 2020): Speech Commands v0.2 keywords through a 700-channel cochlea model",
		Sensor:    events.Geometry{Width: 700, Height: 1},
		Layout:    Container,
		Source:    h5Samples{Files: map[string]string{"train": "ssc_train.h5", "valid": "ssc_valid.h5", "test": "ssc_test.h5"}},
		Splits:    map[string]string{"train": "ssc_train.h5", "valid": "ssc_valid.h5", "test": "ssc_test.h5"},
		SplitRule: "official: ssc_train.h5, ssc_valid.h5 and ssc_test.h5",
		LabelRule: "labels[i] of the split's file; the 35 class names are its extra/keys (in the file's order)",
		Format:    "hdf5",
		Downloads: []Download{
			{URL: "https://zenkelab.org/datasets/ssc_train.h5.zip", File: "ssc_train.h5.zip", MD5: "d102be95e7144fcc0553d1f45ba94170", Extract: true},
			{URL: "https://zenkelab.org/datasets/ssc_valid.h5.zip", File: "ssc_valid.h5.zip", MD5: "b4eee3516a4a90dd0c71a6ac23a8ae43", Extract: true},
			{URL: "https://zenkelab.org/datasets/ssc_test.h5.zip", File: "ssc_test.h5.zip", MD5: "a35ff1e9cffdd02a20eb850c17c37748", Extract: true},
		},
		License:  "CC BY 4.0",
		Citation: heidelbergCitation,
		Notes:    "Same layout as SHD. " + spikeTrainNote,
		Samples:  "75,466 train + 9,981 valid + 20,382 test",
	})
	register(&Definition{
		Name:    "ntidigits18",
		Title:   "N-TIDIGITS18 (Anumula et al. 2018): TIDIGITS spoken digit sequences through a 64-channel silicon cochlea",
		Sensor:  events.Geometry{Width: 64, Height: 1},
		Classes: ntidigitsSymbols,
		Layout:  Container,
		Source:  ntidigits{},
		Splits: map[string]string{"train": "train_*", "test": "test_*",
			"train-sequences": "train_*", "test-sequences": "test_*"},
		SplitRule: "official train/test; train and test hold the single-digit utterances (the classification benchmark), " +
			"train-sequences and test-sequences every utterance, unlabelled (for sequence models), the digits in its id",
		LabelRule: "the utterance name's last field: o (oh), 1–9, z (zero)",
		Format:    "hdf5",
		Downloads: []Download{
			{URL: "https://www.dropbox.com/scl/fi/1x4lxt9yyw25sc3tez8oi/n-tidigits.hdf5?e=2&rlkey=w8gi5udvib2zqzosusa5tr3wq&dl=1",
				File: "n-tidigits.hdf5", MD5: "360a2d11e5429555c9197381cf6b58e0"},
		},
		License:  "not stated by the distributors; derived from LDC's TIDIGITS corpus (LDC93S10), licensed by the LDC",
		Citation: "J. Anumula, D. Neil, T. Delbruck, S.-C. Liu. Feature Representations for Neuromorphic Audio Spike Streams. Frontiers in Neuroscience 12:23, 2018.",
		Notes:    "One file: groups <split>_addresses and <split>_timestamps hold a dataset per utterance named in <split>_labels. " + spikeTrainNote,
		Samples:  "single digits 2,464 train + 2,486 test; every utterance 8,623 + 8,700 (TIDIGITS' adult speakers)",
	})
	register(&Definition{
		Name:       "asldvs",
		Title:      "ASL-DVS (Bi et al., ICCV 2019): 24 American Sign Language letter handshapes recorded by a DAVIS240",
		Sensor:     events.Geometry{Width: 240, Height: 180},
		Classes:    letters("jz"),
		Layout:     ClassFolders,
		Splits:     map[string]string{"all": "."},
		SplitRule:  "no official split: prepare --split all (evtool never invents one silently)",
		LabelRule:  "the letter folder: <letter>/<letter>_NNNN.mat (a–y without j: the 24 static letters)",
		Format:     "mat",
		Extensions: []string{".mat"},
		ReadParams: map[string]string{"flip-y": "true"},
		Downloads: []Download{
			{URL: "https://www.dropbox.com/sh/ibq0jsicatn7l6r/AACNrNELV56rs1YInMWUs9CAa?dl=1", File: "ASLDVS.zip",
				MD5: "33f8b87bf45edc0bfed0de41822279b9", Extract: true, Inner: []string{"*.zip"}},
		},
		License:  "not stated (see https://github.com/PIX2NVS/NVS2Graph)",
		Citation: "Y. Bi, A. Chadha, A. Abbas, E. Bourtsoulatze, Y. Andreopoulos. Graph-based Object Classification for Neuromorphic Vision Sensing. ICCV 2019.",
		Notes: "Each .mat file holds ts (µs), x, y and pol column vectors. y counts from the bottom in the files and is flipped to evtool's top-left origin, as tonic does. " +
			"Labels index the 24 letters present; tonic numbers them within all 26 (a = 0 … y = 24). " +
			"The download is a zip Dropbox builds on the fly: if its md5 differs from the published one, download it by hand, extract it and prepare from that folder.",
		Samples: "100,800 (4,200 per letter)",
	})
	register(&Definition{
		Name:       "stmnist",
		Title:      "ST-MNIST (See et al. 2020): handwritten digits on a 10×10 neuromorphic tactile sensor",
		Sensor:     events.Geometry{Width: 10, Height: 10},
		Classes:    digits(),
		Layout:     ClassFolders,
		Splits:     map[string]string{"all": "."},
		SplitRule:  "no official split: prepare --split all (evtool never invents one silently)",
		LabelRule:  "the digit folder: <digit>/<file>.mat",
		Format:     "mat",
		Extensions: []string{".mat"},
		Exclude:    []string{"*LUT*"},
		ManualPage: "https://scholarbank.nus.edu.sg/handle/10635/168106 (NUS ScholarBank; a form precedes the download)",
		ManualFiles: []string{"STMNIST dataset NUS Tee Research Group.zip (sha256 825bb5a64753fff4a2a2c32e3497fa8a951d9c94993e03ba25a057e17d83b884), " +
			"extracted: <digit>/*.mat"},
		License:  "see the ScholarBank page",
		Citation: "H. H. See, B. Lim, S. Li, H. Yao, W. Cheng, H. Soh, B. C. K. Tee. ST-MNIST – The Spiking Tactile MNIST Neuromorphic Dataset. arXiv:2005.04319, 2020.",
		Notes: "Each file's spiketrain matrix has one column per time step: rows 0–99 are the taxels (x = taxel mod 10, y = taxel div 10), " +
			"+1/−1 the polarity (ON/OFF), row 100 the time in seconds, rounded to the nearest µs (tonic truncates). Files named *LUT* are lookup tables, not samples.",
		Samples: "6,953",
	})
	register(&Definition{
		Name:      "threeet",
		Title:     "3ET eye tracking (Chen et al. 2023): near-eye event recordings with pupil-centre labels",
		Sensor:    events.Geometry{Width: 240, Height: 180},
		Layout:    Container,
		Source:    threeET{},
		Splits:    map[string]string{"train": "train_files.txt", "val": "val_files.txt"},
		SplitRule: "official: the recordings named in train_files.txt and val_files.txt",
		LabelRule: "no classes: each recording's labels/<name>.txt (one gaze label per line) is written to OUT.gaze.csv " +
			"(columns sample, id, row, x, y[, closed]), sample being the recording's row in OUT",
		Format: "hdf5",
		Downloads: []Download{
			{URL: "https://dl.dropboxusercontent.com/s/1hyer8egd8843t9/ThreeET_Eyetracking.zip?dl=0", File: "ThreeET_Eyetracking.zip",
				MD5: "b6c652b06fdfd85721f39e2dbe12f4e8", Extract: true},
		},
		License:  "not stated (see https://github.com/qinche106/cb-convlstm-eyetracking)",
		Citation: "Q. Chen, Z. Wang, S.-C. Liu, C. Gao. 3ET: Efficient Event-based Eye Tracking using a Change-Based ConvLSTM Network. IEEE BioCAS 2023 (arXiv:2308.11771).",
		Notes:    "Each data/<name>.h5 holds events as an (N, 4) array of t (µs), x, y, p (0/1).",
		Samples:  "one sample per recording named in the split lists (the counts are not published with the download)",
	})
	register(&Definition{
		Name:        "ebssa",
		Title:       "EBSSA (Afshar et al. 2020): event-based space imaging, labelled satellite recordings",
		Layout:      Container,
		Source:      ebssa{},
		Splits:      map[string]string{"labelled": "labelled_ebssa.h5"},
		SplitRule:   "the labelled recordings (--split labelled or all); the unlabelled ones are not in the file",
		LabelRule:   "no classes: each recording's Obj entries (time, position, object id) are written to OUT.objects.csv with the recording's row and id",
		Format:      "hdf5",
		ManualPage:  "https://drive.google.com/uc?id=1lCh2HWvxEzzaBHT5TlPuyUn6XPM5OVWN (Google Drive, the copy tonic uses; original page: https://www.westernsydney.edu.au/icns/resources/reproducible_research3/publication_support_materials2/space_imaging)",
		ManualFiles: []string{"labelled_ebssa.h5"},
		License:     "see the ICNS page (Western Sydney University)",
		Citation:    "S. Afshar, A. P. Nicholson, A. van Schaik, G. Cohen. Event-based Object Detection and Tracking for Space Situational Awareness. IEEE Sensors Journal 20(24):15117–15132, 2020.",
		Notes: "A MATLAB 7.3 (HDF5) file with a group per recording: TD (ts, x, y, p) and, when labelled, Obj (ts, x, y, id). " +
			"Pixels count from 1 in the file and from 0 in evtool. The recordings come from an ATIS (304×240) and a DAVIS240 (240×180): " +
			"the canvas is the maximum over the split. Times are kept as recorded (tonic subtracts each recording's first time).",
		Samples: "84 labelled recordings",
	})
	register(&Definition{
		Name:   "dsec",
		Title:  "DSEC (Gehrig et al. 2021): driving scenes from a stereo pair of Prophesee Gen3.1 cameras (left camera's events)",
		Sensor: events.Geometry{Width: 640, Height: 480},
		Layout: Container,
		Source: dsec{},
		Splits: map[string]string{"train": "41 recordings", "test": "12 recordings"},
		SplitRule: "official: 41 train and 12 test recordings; each recording is cut into windows of --window " +
			"(default 100 ms, the rate of DSEC's disparity and flow ground truth), the last one possibly shorter",
		LabelRule:  "none (events only); ids are <recording>@<window start in µs>",
		Format:     "hdf5",
		ManualPage: "https://dsec.ifi.uzh.ch/dsec-datasets/download/ (per recording: https://download.ifi.uzh.ch/rpg/DSEC/<split>/<recording>/<recording>_events_left.zip)",
		ManualFiles: []string{"<recording>_events_left.zip for each recording, extracted into <recording>/events_left/ " +
			"(or the split archives: <split>/<recording>/events/left/events.h5)"},
		License:  "CC BY-SA 4.0",
		Citation: "M. Gehrig, W. Aarents, D. Gehrig, D. Scaramuzza. DSEC: A Stereo Event Camera Dataset for Driving Scenarios. IEEE Robotics and Automation Letters 6(3):4947–4954, 2021.",
		Notes: "events.h5 holds events/{x, y, p, t} with t in µs after t_offset, compressed with the Blosc plug-in (zstd), which evtool decodes itself; " +
			"the times written are absolute (t + t_offset). No checksums are published. " +
			"One recording converts on its own, streaming: evtool convert <recording>/events_left/events.h5 -o rec.arrow.",
		Samples: "41 train + 12 test recordings; samples: each recording's duration / --window",
	})
	register(&Definition{
		Name:        "dvslip",
		Title:       "DVS-Lip (Tan et al., CVPR 2022): 100 spoken words lip-read by a DAVIS346 (128×128 crops)",
		Sensor:      events.Geometry{Width: 128, Height: 128},
		Classes:     dvsLipWords,
		Layout:      ClassFolders,
		Splits:      map[string]string{"train": "train", "test": "test"},
		SplitRule:   "official: train/ and test/",
		LabelRule:   "the word folder: <split>/<word>/<n>.npy",
		Format:      "npy",
		Extensions:  []string{".npy"},
		ManualPage:  "https://drive.google.com/file/d/1dBEgtmctTTWJlWnuWxFtk8gfOdVVpkQ0/view (Google Drive)",
		ManualFiles: []string{"DVS-Lip.zip (md5 2dcb959255122d4cdeb6094ca282494b), extracted: DVS-Lip/{train,test}/<word>/*.npy"},
		License:     "research use (see https://sites.google.com/view/event-based-lipreading)",
		Citation:    "G. Tan, Y. Wang, H. Han, Y. Cao, F. Wu, Z.-J. Zha. Multi-Grained Spatio-Temporal Features Perceived Network for Event-Based Lip-Reading. CVPR 2022.",
		Notes:       "Structured .npy arrays with fields t (µs), x, y, p, read by evtool's npy reader.",
		Samples:     "14,896 train + 4,975 test",
	})
}
