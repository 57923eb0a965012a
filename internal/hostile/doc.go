// Package hostile is the hostile-file suite: the test generates files that lie (counts and sizes in
// headers and metadata), overflow (times at the ends of int64, coordinates at the ends of uint16), are
// empty, damaged or cut, or come from other writers (columns in another order, no evtool metadata), and
// runs each through every verb of the evtool binary — info, convert to every writable format, render,
// view (on a private X server), train and eval — under a 2 GB data limit and a timeout. Every run must
// end without a panic, within its memory and time, with exit code 0 or 1 as the case says; a refusal
// names the file and leaves nothing in the output folder, and every file convert writes opens again in
// evtool. The package has no code besides its test.
package hostile
