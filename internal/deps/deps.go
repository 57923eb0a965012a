// Package deps pins the chosen third-party modules in go.mod while the packages that use them are being
// written in parallel. It is imported by nothing; delete it once every module is imported for real.
package deps

import (
	_ "github.com/apache/arrow-go/v18/arrow/ipc"
	_ "github.com/apache/arrow-go/v18/parquet/pqarrow"
	_ "github.com/hajimehoshi/ebiten/v2"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/pierrec/lz4/v4"
	_ "gonum.org/v1/gonum/blas/blas32"
)
