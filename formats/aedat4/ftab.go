package aedat4

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/evtool/evtool/formats/internal/input"
	"github.com/evtool/evtool/internal/flatbuf"
)

// TableEntry is one packet of the file data table (FTAB).
type TableEntry struct {
	ByteOffset int64 // file offset of the packet payload (packet header + 8)
	StreamID   int32
	Size       int32
	Elements   int64
	StartT     int64
	EndT       int64
	HasTimes   bool // the writer stored elements_count/start_t/end_t (the trimmed DAVIS fixture does not)
}

// Table reads the file data table (the FTAB index at dataTablePosition), or nil when the file has none.
// Entries that do not agree with the packet they point at are dropped (the index is only a hint).
func (r *Reader) Table() ([]TableEntry, error) {
	if r.ftab != nil || r.dataTable < 0 {
		return r.ftab, nil
	}
	ra, ok := r.in.Source().(io.ReaderAt)
	if !ok || r.size < 0 {
		return nil, fmt.Errorf("%s: the data table needs a file, not a stream", r.path)
	}
	n := r.size - r.dataTable
	if n <= 0 || n > maxPayload {
		return nil, r.fail(r.dataTable, "the data table position lies past the end of the file", nil)
	}
	raw := make([]byte, n)
	if _, err := ra.ReadAt(raw, r.dataTable); err != nil && err != io.EOF {
		return nil, r.fail(r.dataTable, "cannot read the data table", err)
	}
	payload, err := r.decompress(raw, r.payload, &r.zd)
	if err == nil && r.comp != "none" {
		r.payload = payload
	}
	if err != nil || len(payload) < 8 {
		return nil, r.fail(r.dataTable, "cannot decompress the data table", err)
	}
	fbLen := int(binary.LittleEndian.Uint32(payload))
	if fbLen > len(payload)-4 {
		return nil, r.fail(r.dataTable, "data table size prefix exceeds its payload", nil)
	}
	buf := flatbuf.Buf(payload[4 : 4+fbLen])
	root, ok := buf.Root()
	if !ok || buf.Identifier() != "FTAB" {
		return nil, r.fail(r.dataTable, "the data table is not an FTAB FlatBuffer", nil)
	}
	cnt, start, ok := root.Vector(0, 4)
	if !ok {
		return nil, r.fail(r.dataTable, "the data table's vector lies outside it", nil)
	}
	entries := make([]TableEntry, 0, cnt)
	for i := 0; i < cnt; i++ {
		t, ok := buf.TableIn(start, i)
		if !ok {
			continue
		}
		e := TableEntry{ByteOffset: t.Int64(0, -1), Elements: t.Int64(2, 0), StartT: t.Int64(3, 0), EndT: t.Int64(4, 0)}
		if ph := t.Struct(1, 8); ph != nil {
			e.StreamID = int32(binary.LittleEndian.Uint32(ph[0:]))
			e.Size = int32(binary.LittleEndian.Uint32(ph[4:]))
		}
		e.HasTimes = t.Field(3) >= 0 && t.Field(4) >= 0
		if e.ByteOffset < r.dataStart+8 || e.ByteOffset+int64(e.Size) > r.dataTable {
			continue
		}
		entries = append(entries, e)
	}
	r.ftab = entries
	return entries, nil
}

// SeekTime positions the reader so that the next Read returns the selected stream's events from the
// first packet that may hold t (by the FTAB when it has times, else from the first packet), dropping
// events earlier than t.
func (r *Reader) SeekTime(t int64) error {
	entries, err := r.Table()
	if err != nil {
		return err
	}
	target := r.dataStart
	for _, e := range entries {
		if e.StreamID != r.evStream || !e.HasTimes {
			continue
		}
		if e.EndT >= t {
			target = e.ByteOffset - 8
			break
		}
		target = e.ByteOffset - 8 + 8 + int64(e.Size) // past this packet: keep walking from the next
	}
	r.stopAhead()
	if err := r.in.Reopen(target); err != nil {
		return err
	}
	r.pending.Reset()
	r.pos, r.end = 0, input.Ending{}
	r.lastT = math.MinInt64
	r.skipBefore = t
	return nil
}
