// Package cli is the command-line front: it parses arguments, opens a core
// Manager and prints results for people (a table, a progress bar) or for
// programs (--json). It holds no logic of its own beyond presentation; exit
// codes are 0 ok, 1 failure, 2 usage, 3 integrity.
package cli
