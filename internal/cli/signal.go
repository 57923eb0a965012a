package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/evtool/evtool/internal/atomicfile"
)

// Grace is how long a verb may take to unwind after SIGINT or SIGTERM before the process exits anyway
// (its temporary outputs are gone already: atomicfile.Interrupt removes them at the signal).
var Grace = 5 * time.Second

var (
	caught   atomic.Value // os.Signal
	exitOnce sync.Once
)

// WithSignals returns a context that SIGINT and SIGTERM cancel, the same way in every verb. At the first
// signal every temporary output is removed and every later commit refused (atomicfile.Interrupt), so the
// previous output stays intact, then the context is cancelled; the verb unwinds and main exits with
// ExitCode (130 for SIGINT, 143 for SIGTERM). A verb that does not return within Grace, or a second
// signal, ends the process at once with the same code.
func WithSignals(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		var sig os.Signal
		select {
		case sig = <-ch:
		case <-ctx.Done():
			return
		}
		caught.Store(sig)
		atomicfile.Interrupt()
		cancel()
		select {
		case <-ch:
		case <-time.After(Grace):
		}
		Exit(nil)
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel()
	}
}

// Signal returns the signal that interrupted the run, or nil.
func Signal() os.Signal {
	s, _ := caught.Load().(os.Signal)
	return s
}

// signalCode is the shell's convention for a process ended by a signal: 128 + its number.
func signalCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 130
}

// Exit reports err (see Report), removes what a signal left (atomicfile.Interrupt, when there was one)
// and ends the process with its exit code. The first call wins; later ones wait for it.
func Exit(err error) {
	exitOnce.Do(func() {
		if Signal() != nil {
			atomicfile.Interrupt()
		}
		os.Exit(Report(err))
	})
	select {}
}

// InterruptedError is what a verb returns when a signal stopped it and it has something to say about
// what it kept (train's last checkpoint, fetch's partial download).
type InterruptedError struct{ Note string }

func (e *InterruptedError) Error() string { return "interrupted; " + e.Note }

// interruptedMessage is the line printed when a signal stopped the run.
func interruptedMessage(sig os.Signal, err error) string {
	name := "SIGINT"
	if sig == syscall.SIGTERM {
		name = "SIGTERM"
	}
	if ie, ok := asInterrupted(err); ok {
		return fmt.Sprintf("interrupted (%s); %s", name, ie.Note)
	}
	return fmt.Sprintf("interrupted (%s): no output was written, and a previous output is as it was", name)
}
