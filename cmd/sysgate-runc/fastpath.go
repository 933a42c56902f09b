package main

// The fast path is C, run as a constructor before the Go runtime starts;
// importing "C" links fastpath.c into the binary.

// #cgo CFLAGS: -O2 -Wall
import "C"
