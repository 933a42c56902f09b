package jsonobj

import (
	"bytes"
	"fmt"
)

// Position renders a byte offset as a 1-based line and byte column.
func Position(data []byte, off int) string {
	off = max(0, min(off, len(data)))
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := off - (bytes.LastIndexByte(data[:off], '\n') + 1) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}
