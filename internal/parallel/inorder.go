package parallel

// InOrder is the push-style counterpart of Ordered, for writers handed their work piece by piece (a
// deflate stream's chunks, an Arrow file's record batches): each task runs on its own goroutine, and the
// caller finishes the tasks — writes their results — on its goroutine, in the order they were started.
// It is not safe for concurrent use; the tasks' work is.
type InOrder[T any] struct {
	limit   int
	finish  func(T) error
	pending []inOrderTask[T]
}

type inOrderTask[T any] struct {
	v    T
	done chan struct{}
}

// NewInOrder returns a queue that keeps fewer than limit tasks unfinished when Room returns, and
// finishes each task v with finish(v).
func NewInOrder[T any](limit int, finish func(T) error) *InOrder[T] {
	return &InOrder[T]{limit: max(limit, 1), finish: finish}
}

// Room waits for the oldest tasks and finishes them until fewer than limit are unfinished: call it before
// Go to bound the work in flight. It returns the first error of finish.
func (q *InOrder[T]) Room() error {
	for len(q.pending) >= q.limit {
		if err := q.finishOldest(); err != nil {
			return err
		}
	}
	return nil
}

// Go runs work on a goroutine as task v, finished after the tasks started before it.
func (q *InOrder[T]) Go(v T, work func()) {
	t := inOrderTask[T]{v: v, done: make(chan struct{})}
	q.pending = append(q.pending, t)
	go func() {
		defer close(t.done)
		work()
	}()
}

// Finish waits for every task and finishes them in order. After an error of finish, the tasks left are
// waited for but not finished; the first error is returned.
func (q *InOrder[T]) Finish() error {
	for len(q.pending) > 0 {
		if err := q.finishOldest(); err != nil {
			q.Abandon()
			return err
		}
	}
	return nil
}

// Abandon waits for every task (so that none runs afterwards) and finishes none of them.
func (q *InOrder[T]) Abandon() {
	for _, t := range q.pending {
		<-t.done
	}
	clear(q.pending)
	q.pending = q.pending[:0]
}

func (q *InOrder[T]) finishOldest() error {
	t := q.pending[0]
	<-t.done
	copy(q.pending, q.pending[1:]) // kept at the front: appending does not reallocate
	q.pending[len(q.pending)-1] = inOrderTask[T]{}
	q.pending = q.pending[:len(q.pending)-1]
	return q.finish(t.v)
}
