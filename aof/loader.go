package aof

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ringkv/ringkv/conn/resp"
)

// Limits of the loader, checked before allocating.
const (
	// argcMax bounds one record's argument count. A client command can be
	// that long (MSET with a million pairs); beyond it the file is damaged.
	argcMax = 1 << 24
	// readChunk is how much the loader reads at a time.
	readChunk = 1 << 20
)

// CorruptError is damage that is not a torn tail: a record that does not
// parse, followed by more bytes, or a short file that is not the last one.
// Loading stops; nothing is repaired.
type CorruptError struct {
	File   string // path
	Offset int64  // of the first bad record
	Reason string
	Last   bool // the damaged file is the last one (ringkv-check-aof --fix --force can cut it)
}

func (e *CorruptError) Error() string {
	hint := "restore the directory from a backup"
	if e.Last {
		hint = "copy the directory aside, then run ringkv-check-aof --fix --force " + filepath.Dir(e.File) +
			" to cut the file at this offset (losing every command after it), or restore it from a backup"
	}
	return fmt.Sprintf("bad file format reading the append only file %s at offset %d: %s; %s",
		e.File, e.Offset, e.Reason, hint)
}

// TruncatedError is a torn tail that was not repaired: aof-load-truncated
// is no, or the short file is not the last one.
type TruncatedError struct {
	File       string
	ValidBytes int64 // length of the longest prefix of whole records
	Size       int64
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("the append only file %s ends with a torn record: %d bytes after offset %d; "+
		"set aof-load-truncated yes to cut them at start, or run ringkv-check-aof --fix %s",
		e.File, e.Size-e.ValidBytes, e.ValidBytes, filepath.Dir(e.File))
}

// ErrRDBPreamble refuses a base file that starts with an RDB payload.
var ErrRDBPreamble = errors.New("the base file starts with an RDB preamble (aof-use-rdb-preamble yes), which ringkv cannot read yet: " +
	"rewrite it with redis-server started with --aof-use-rdb-preamble no (BGREWRITEAOF), then copy the directory")

// LoadStats describes a load.
type LoadStats struct {
	Files     int
	Commands  int64
	Bytes     int64
	Truncated int64 // bytes dropped from a torn tail
}

// LoadOptions say how to load.
type LoadOptions struct {
	Dir      string // the AOF directory (dir/appenddirname)
	Filename string // appendfilename
	// RefuseTruncated is aof-load-truncated no: a torn tail stops the load
	// instead of being cut off.
	RefuseTruncated bool
	// Logf reports repairs.
	Logf func(format string, args ...any)
}

// Load replays the files the manifest lists through apply: the base, then
// each incr file. It returns os.ErrNotExist (wrapped) when there is no
// manifest. A torn tail of the last file is cut off (the file is truncated)
// and reported in Logf and LoadStats.Truncated, unless RefuseTruncated.
// Commands inside MULTI/EXEC are applied at EXEC, without MULTI and EXEC;
// a MULTI with no EXEC at the end of the last file counts as torn.
// An apply error stops the load and is returned wrapped with the file and
// offset.
func Load(opt LoadOptions, apply func(argv [][]byte) error) (LoadStats, error) {
	var st LoadStats
	m, err := ReadManifest(opt.Dir, opt.Filename)
	if err != nil {
		return st, err
	}
	files := m.Files()
	for i, fi := range files {
		path := filepath.Join(opt.Dir, fi.Name)
		last := i == len(files)-1
		res, err := loadFile(path, fi.Type == TypeBase, apply)
		st.Files++
		st.Commands += res.commands
		st.Bytes += res.valid
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && fi.Type == TypeIncr && last {
				// Redis creates the last incr file lazily; its absence is
				// an empty file.
				continue
			}
			return st, err
		}
		if res.valid == res.size {
			continue
		}
		if !last || opt.RefuseTruncated {
			return st, &TruncatedError{File: path, ValidBytes: res.valid, Size: res.size}
		}
		if err := os.Truncate(path, res.valid); err != nil {
			return st, fmt.Errorf("cutting the torn tail of %s: %w", path, err)
		}
		st.Truncated = res.size - res.valid
		if opt.Logf != nil {
			opt.Logf("AOF %s ended with a torn record: dropped its last %d bytes (loaded %d commands up to offset %d); aof-load-truncated is yes",
				path, res.size-res.valid, res.commands, res.valid)
		}
	}
	return st, nil
}

type fileResult struct {
	commands    int64
	valid, size int64
}

func loadFile(path string, base bool, apply func([][]byte) error) (fileResult, error) {
	var res fileResult
	f, err := os.Open(path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	if base {
		var magic [5]byte
		if n, _ := io.ReadFull(f, magic[:]); n == 5 && string(magic[:]) == "REDIS" {
			return res, fmt.Errorf("%s: %w", path, ErrRDBPreamble)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return res, err
		}
	}
	var multi [][][]byte // commands queued since MULTI
	inMulti := false
	validBeforeMulti := int64(0)
	res.valid, res.size, err = Scan(f, func(argv [][]byte, off int64) error {
		switch {
		case len(argv) == 1 && eqFold(argv[0], "multi"):
			inMulti, multi = true, multi[:0]
			validBeforeMulti = off
			return nil
		case len(argv) == 1 && eqFold(argv[0], "exec") && inMulti:
			inMulti = false
			for _, q := range multi {
				if err := apply(q); err != nil {
					return err
				}
				res.commands++
			}
			return nil
		case inMulti:
			// argv views the read buffer: keep a copy until EXEC.
			cp := make([][]byte, len(argv))
			for i, a := range argv {
				cp[i] = bytes.Clone(a)
			}
			multi = append(multi, cp)
			return nil
		}
		res.commands++
		return apply(argv)
	})
	if inMulti {
		// A torn tail or damage inside a transaction: what loads ends
		// before its MULTI.
		res.valid = validBeforeMulti
	}
	if err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) {
			ce.File = path
			return res, ce
		}
		return res, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// FileCheck is what CheckFile found in one file.
type FileCheck struct {
	Commands int64 // whole commands before Valid (a transaction's at its EXEC)
	// Valid is the length of the longest prefix that loads: below Size, the
	// rest is a torn tail or, with a *CorruptError, the damage and what
	// follows it (cutting the file at Valid keeps every command before the
	// damage, and no MULTI without its EXEC).
	Valid int64
	Size  int64
}

// CheckFile parses one file as Load does, applying nothing, for
// ringkv-check-aof. base says it is a base file (an RDB preamble is refused
// with an error wrapping ErrRDBPreamble). Damage is a *CorruptError naming
// path and the offset.
func CheckFile(path string, base bool) (FileCheck, error) {
	res, err := loadFile(path, base, func([][]byte) error { return nil })
	fc := FileCheck{Commands: res.commands, Valid: res.valid, Size: res.size}
	if err != nil {
		if st, serr := os.Stat(path); serr == nil {
			fc.Size = st.Size()
		}
	}
	return fc, err
}

// ApplyError wraps an error from the apply callback with where it happened.
type ApplyError struct {
	Offset int64
	Err    error
}

func (e *ApplyError) Error() string { return fmt.Sprintf("offset %d: %v", e.Offset, e.Err) }
func (e *ApplyError) Unwrap() error { return e.Err }

// Scan parses the RESP multibulk records of r and calls fn for each whole
// one with its argv (views valid until fn returns) and its offset. It
// returns the length of the longest prefix of whole records (valid) and the
// bytes read in all (size). valid < size means a torn tail: the bytes after
// valid are the start of a record cut short. A record that cannot be the
// start of a valid one is a *CorruptError (its File left empty).
func Scan(r io.Reader, fn func(argv [][]byte, off int64) error) (valid, size int64, err error) {
	buf := make([]byte, 0, readChunk)
	base := int64(0) // file offset of buf[0]
	pos := 0
	eof := false
	var argv [][]byte
	for {
		// Parse every whole record in buf[pos:].
		for {
			next, args, perr := parseRecord(buf, pos, argv[:0])
			if perr != nil {
				return base + int64(pos), 0, &CorruptError{Offset: base + int64(pos), Reason: perr.Error(), Last: true}
			}
			if next < 0 {
				break
			}
			argv = args
			if err := fn(argv, base+int64(pos)); err != nil {
				return base + int64(pos), 0, &ApplyError{Offset: base + int64(pos), Err: err}
			}
			pos = next
		}
		if eof {
			return base + int64(pos), base + int64(len(buf)), nil
		}
		// Keep the partial record, read more.
		if pos > 0 {
			n := copy(buf, buf[pos:])
			buf = buf[:n]
			base += int64(pos)
			pos = 0
		}
		if cap(buf)-len(buf) < readChunk/2 {
			nb := make([]byte, len(buf), 2*cap(buf))
			copy(nb, buf)
			buf = nb
		}
		n, rerr := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if rerr == io.EOF {
			eof = true
		} else if rerr != nil {
			return base, 0, rerr
		}
	}
}

type parseError string

func (e parseError) Error() string { return string(e) }

// parseRecord parses the record at buf[pos:] as Redis's loader does: "*N"
// with N >= 1, then N "$len" bulk arguments, each line ending in CRLF. next
// is -1 when the record is incomplete.
func parseRecord(buf []byte, pos int, argv [][]byte) (next int, _ [][]byte, err error) {
	if pos >= len(buf) {
		return -1, argv, nil
	}
	if buf[pos] != '*' {
		return 0, argv, parseError("a record does not start with '*'")
	}
	argc, p, err := parseHeader(buf, pos+1)
	if err != nil || p < 0 {
		return -1, argv, err
	}
	if argc < 1 || argc > argcMax {
		return 0, argv, parseError(fmt.Sprintf("invalid argument count %d", argc))
	}
	for range argc {
		if p >= len(buf) {
			return -1, argv, nil
		}
		if buf[p] != '$' {
			return 0, argv, parseError("an argument does not start with '$'")
		}
		n, q, err := parseHeader(buf, p+1)
		if err != nil || q < 0 {
			return -1, argv, err
		}
		if n < 0 || n > resp.BulkLenMax {
			return 0, argv, parseError(fmt.Sprintf("invalid bulk length %d", n))
		}
		end := q + int(n)
		if end+2 > len(buf) {
			return -1, argv, nil
		}
		if buf[end] != '\r' || buf[end+1] != '\n' {
			return 0, argv, parseError("an argument is not followed by CRLF")
		}
		argv = append(argv, buf[q:end:end])
		p = end + 2
	}
	return p, argv, nil
}

// headerDigitsMax: "*N" and "$N" numbers are at most this long.
const headerDigitsMax = 20

// parseHeader reads the decimal number at buf[p:] up to CRLF. It returns
// the position after CRLF, or -1 if the line is not complete.
func parseHeader(buf []byte, p int) (int64, int, error) {
	i := p
	for i < len(buf) && buf[i] != '\r' {
		if i-p > headerDigitsMax {
			return 0, 0, parseError("a header line is too long")
		}
		i++
	}
	if i+1 >= len(buf) {
		if i-p > headerDigitsMax {
			return 0, 0, parseError("a header line is too long")
		}
		return 0, -1, nil
	}
	if buf[i+1] != '\n' {
		return 0, 0, parseError("a header line does not end in CRLF")
	}
	n, ok := resp.ParseInt(buf[p:i])
	if !ok {
		return 0, 0, parseError(fmt.Sprintf("invalid number %q", buf[p:i]))
	}
	return n, i + 2, nil
}

func eqFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
