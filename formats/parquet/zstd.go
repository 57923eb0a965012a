package parquet

import (
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// zstdPages is the zstd page codec evtool registers in place of arrow-go's: arrow-go v18.4.1 builds a new
// encoder, with its multi-megabyte match history, for every page it compresses, which took most of a
// dataset write's time. This one keeps one encoder per level (EncodeAll is safe for concurrent use);
// decoding stays arrow-go's.
type zstdPages struct{ compress.Codec }

var zstdEncoders sync.Map // zstd.EncoderLevel → *zstd.Encoder

func (z zstdPages) EncodeLevel(dst, src []byte, level int) []byte {
	l := zstd.EncoderLevelFromZstd(level)
	if level == compress.DefaultCompressionLevel {
		l = zstd.SpeedDefault
	}
	enc, ok := zstdEncoders.Load(l)
	if !ok {
		e, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(l))
		if err != nil {
			return z.Codec.EncodeLevel(dst, src, level)
		}
		enc, _ = zstdEncoders.LoadOrStore(l, e)
	}
	return enc.(*zstd.Encoder).EncodeAll(src, dst[:0])
}

func init() {
	if arrow, err := compress.GetCodec(compress.Codecs.Zstd); err == nil {
		compress.RegisterCodec(compress.Codecs.Zstd, zstdPages{arrow})
	}
}
