package hdf5

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/evtool/evtool/events"

	"github.com/klauspost/compress/zlib"
)

type filter struct {
	id       uint16
	optional bool
	client   []uint32
}

const (
	filterDeflate    = 1
	filterShuffle    = 2
	filterFletcher32 = 3
)

// Registered filter identifiers, for naming what is refused.
var filterNames = map[uint16]string{
	1: "deflate", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset",
	305: "lzo", 307: "bzip2", 32000: "lzf", 32001: "blosc", 32002: "mafisc", 32003: "snappy",
	32004: "lz4", 32005: "apax", 32006: "cbf", 32007: "jpeg-xr", 32008: "bitshuffle", 32009: "spdp",
	32010: "lpc-rice", 32011: "ccsds-123", 32012: "jpeg-ls", 32013: "zfp", 32014: "fpzip", 32015: "zstd",
	32016: "b3d", 32017: "sz", 32018: "fcidecomp", 32019: "jpeg", 32020: "vbz", 32022: "fapec",
	32023: "bitgroom", 32024: "granularbr", 32025: "sz3", 32026: "blosc2", 32028: "jpeg2000",
	36559: "Prophesee ECF",
}

func filterName(id uint16) string {
	if n, ok := filterNames[id]; ok {
		return n
	}
	return fmt.Sprintf("filter %d", id)
}

func (f *File) parseFilters(b []byte, at int64) ([]filter, error) {
	c := &cursor{f: f, b: b, at: at}
	v := c.u8()
	n := int(c.u8())
	if v == 1 {
		c.skip(6)
	} else if v != 2 {
		return nil, f.errAt(at, "filter pipeline version %d (want 1 or 2)", v)
	}
	if n > 32 {
		return nil, f.errAt(at+1, "filter pipeline of %d filters (at most 32)", n)
	}
	var out []filter
	for i := 0; i < n; i++ {
		fl := filter{id: c.u16()}
		nameLen := 0
		if v == 1 || fl.id >= 256 {
			nameLen = int(c.u16())
		}
		flags := c.u16()
		fl.optional = flags&1 != 0
		nvals := int(c.u16())
		if v == 1 {
			c.skip(nameLen) // padded to 8 already
		} else {
			c.skip(nameLen)
		}
		if nvals > c.left()/4 {
			return nil, f.errAt(c.off(), "filter with %d parameters in %d bytes", nvals, c.left())
		}
		for k := 0; k < nvals; k++ {
			fl.client = append(fl.client, c.u32())
		}
		if v == 1 && nvals%2 == 1 {
			c.skip(4)
		}
		if c.err != nil {
			return nil, c.err
		}
		out = append(out, fl)
	}
	return out, nil
}

// unfilter undoes a chunk's filters (last applied first) and checks that the result is want bytes.
func (d *Dataset) unfilter(data []byte, mask uint32, filters []filter, want uint64, at int64) ([]byte, error) {
	f := d.f
	for i := len(filters) - 1; i >= 0; i-- {
		fl := filters[i]
		if i < 32 && mask&(1<<i) != 0 {
			continue // skipped when this chunk was written
		}
		switch fl.id {
		case filterDeflate:
			// Inflating cannot create more than ~1032 bytes per input byte: a chunk announcing more is
			// corrupt, and is refused before anything is allocated for it.
			if want > 1032*uint64(len(data))+1024 {
				return nil, f.errAt(at, "%s: a chunk of %d compressed bytes claims to inflate to %d, more than deflate can produce", d.Path, len(data), want)
			}
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, f.errAt(at, "%s: deflate stream of a chunk: %v", d.Path, err)
			}
			// The buffer grows with what really inflates (a lying stream allocates no more than it holds),
			// reusing the cached chunk's buffer in the steady state.
			out := d.reuse(0)[:0]
			if uint64(cap(out)) < want {
				out = make([]byte, 0, min(want, 8*uint64(len(data))+64<<10))
			}
			buf := bytes.NewBuffer(out)
			n, err := io.Copy(buf, io.LimitReader(zr, int64(want)+1))
			if err != nil {
				return nil, f.errAt(at, "%s: inflating a chunk: %v", d.Path, err)
			}
			if uint64(n) > want {
				return nil, f.errAt(at, "%s: a chunk inflates to more than its %d bytes", d.Path, want)
			}
			data = buf.Bytes()
		case filterShuffle:
			size := d.Type.Size
			if len(fl.client) > 0 {
				size = int(fl.client[0])
			}
			// Unshuffle into the spare buffer and keep the input's as the next spare: two buffers
			// alternate, so streaming through chunks allocates nothing.
			if size > 1 && len(data) >= 2*size {
				out := d.spare
				if cap(out) < len(data) {
					out = make([]byte, len(data))
				}
				out = out[:len(data)]
				unshuffle(out, data, size)
				d.spare, data = data[:0], out
			}
		case filterBlosc, filterLZ4:
			var err error
			if fl.id == filterBlosc {
				data, err = unblosc(data, want)
			} else {
				data, err = unlz4(data, want)
			}
			if err != nil {
				wrapped := &events.DecodeError{Path: f.name, Offset: max(0, at), Msg: d.Path + ": " + err.Error()}
				if errors.Is(err, ErrUnsupported) {
					wrapped.Err = ErrUnsupported
				}
				return nil, wrapped
			}
		case filterFletcher32:
			if len(data) < 4 {
				return nil, f.errAt(at, "%s: chunk too short for its fletcher32 checksum", d.Path)
			}
			n := len(data) - 4
			stored := uint32(data[n]) | uint32(data[n+1])<<8 | uint32(data[n+2])<<16 | uint32(data[n+3])<<24
			sum := fletcher32(data[:n])
			// Files from old libraries on little-endian machines store the checksum byte-swapped.
			swapped := sum>>24 | (sum>>8)&0xff00 | (sum<<8)&0xff0000 | sum<<24
			if stored != sum && stored != swapped {
				return nil, f.errAt(at, "%s: chunk fletcher32 checksum mismatch (stored %08x, computed %08x): the data is corrupt", d.Path, stored, sum)
			}
			data = data[:n]
		default:
			name := filterName(fl.id)
			hint := ""
			switch fl.id {
			case 32026, 32015, 32008:
				hint = "; rewrite the file without it, e.g. h5repack -f NONE in.h5 out.h5 (with hdf5plugin installed), or in Python with h5py"
			case 32000:
				hint = "; rewrite the file with gzip, e.g. h5repack -f GZIP=4 in.h5 out.h5"
			}
			return nil, f.unsupported(at, "%s: the %s filter (id %d)%s", d.Path, name, fl.id, hint)
		}
	}
	if uint64(len(data)) != want {
		return nil, f.errAt(at, "%s: a chunk decodes to %d bytes where %d were expected", d.Path, len(data), want)
	}
	return data, nil
}

// CheckFilters refuses a pipeline with filters this reader cannot undo, before any chunk is read.
func (d *Dataset) CheckFilters() error {
	for _, fl := range d.filters {
		switch fl.id {
		case filterDeflate, filterShuffle, filterFletcher32, filterBlosc, filterLZ4:
		default:
			_, err := d.unfilter(nil, 0, []filter{fl}, 0, d.layoutAt)
			return err
		}
	}
	return nil
}

// unshuffle reverses the shuffle filter into out: bytes were grouped by their position within each
// element (trailing bytes that fill no element stay in place).
func unshuffle(out, src []byte, size int) {
	n := len(src) / size
	for j := 0; j < size; j++ {
		plane := src[j*n : (j+1)*n]
		for i, b := range plane {
			out[i*size+j] = b
		}
	}
	copy(out[n*size:], src[n*size:])
}
