// Package layers holds the test that enforces the import rules of docs/architecture.md ("Layers"): the
// data model imports nothing above it, formats know nothing of what uses them, transforms know no file
// format, and only the commands use convert. It has no code of its own.
package layers
