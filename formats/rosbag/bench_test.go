package rosbag

import (
	"io"
	"testing"

	"github.com/evtool/evtool/events"
	"github.com/evtool/evtool/formats"
)

// BenchmarkRead: events per second reading an in-memory bag of 500,000 DAVIS events in messages of 2,500
// (about what rpg_dvs_ros publishes at 1 kHz), with IMU messages and ~768 KiB chunks as rosbag record makes.
func BenchmarkRead(b *testing.B) {
	for _, comp := range []string{"none", "lz4", "bz2"} {
		g := recording{compression: comp, width: 346, height: 260, messages: 200, perMessage: 2500, perChunk: 46, imu: true, seed: 1}.generate(b)
		b.Run(comp, func(b *testing.B) {
			buf := events.NewBatch(1 << 16)
			b.SetBytes(int64(len(g.bag)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r, err := NewReaderAt(bytesReader(g.bag), int64(len(g.bag)), "bench.bag", formats.Options{})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					err := r.Read(buf)
					n += buf.Len()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if n != g.want.Len() {
					b.Fatalf("%d events", n)
				}
			}
			b.ReportMetric(float64(g.want.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mev/s")
		})
	}
}
