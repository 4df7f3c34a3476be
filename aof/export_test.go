package aof

import "io"

func ioEOF() error { return io.EOF }
