package aof

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileType is a manifest entry's "type": base, history or incr.
type FileType byte

const (
	TypeBase    FileType = 'b'
	TypeHistory FileType = 'h'
	TypeIncr    FileType = 'i'
)

// FileInfo is one line of the manifest.
type FileInfo struct {
	Name string
	Seq  int64
	Type FileType
}

// Manifest lists the files of an AOF directory in load order: the base (if
// any), then the incr files by increasing seq. History files are left over
// from a rewrite and are deleted, never loaded.
type Manifest struct {
	Base    *FileInfo
	Incrs   []FileInfo
	History []FileInfo
}

// manifestLineMax bounds a manifest line, as Redis's AOF_MANIFEST_LINE_MAX... a
// line longer than this is a damaged manifest, not a long file name.
const manifestLineMax = 4096

// Names of the files in an AOF directory, as Redis 7 spells them.
func manifestName(filename string) string     { return filename + ".manifest" }
func tempManifestName(filename string) string { return "temp-" + filename + ".manifest" }
func baseName(filename string, seq int64) string {
	return filename + "." + strconv.FormatInt(seq, 10) + ".base.aof"
}
func incrName(filename string, seq int64) string {
	return filename + "." + strconv.FormatInt(seq, 10) + ".incr.aof"
}

// ParseManifest reads a manifest's text: one "file NAME seq N type T" line
// per file, '#' comments, the keys in any order, as Redis 7 writes them.
func ParseManifest(b []byte) (*Manifest, error) {
	m := &Manifest{}
	lastIncr := int64(0)
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(line) > manifestLineMax {
			return nil, fmt.Errorf("manifest line %d is longer than %d bytes", n+1, manifestLineMax)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		args, ok := splitArgs(string(line))
		if !ok || len(args)%2 != 0 {
			return nil, fmt.Errorf("manifest line %d: invalid format: %q", n+1, line)
		}
		var fi FileInfo
		for i := 0; i < len(args); i += 2 {
			switch args[i] {
			case "file":
				fi.Name = args[i+1]
			case "seq":
				seq, err := strconv.ParseInt(args[i+1], 10, 64)
				if err != nil || seq < 0 {
					return nil, fmt.Errorf("manifest line %d: invalid seq %q", n+1, args[i+1])
				}
				fi.Seq = seq
			case "type":
				if len(args[i+1]) == 1 {
					fi.Type = FileType(args[i+1][0])
				}
			}
		}
		// A name with a path in it would make the loader read outside the
		// directory (Redis 7.0.12 refuses it too).
		if fi.Name == "" || strings.ContainsRune(fi.Name, '/') || fi.Name == "." || fi.Name == ".." {
			return nil, fmt.Errorf("manifest line %d: invalid file name %q", n+1, fi.Name)
		}
		switch fi.Type {
		case TypeBase:
			if m.Base != nil {
				return nil, fmt.Errorf("manifest line %d: found duplicate base file information", n+1)
			}
			b := fi
			m.Base = &b
		case TypeHistory:
			m.History = append(m.History, fi)
		case TypeIncr:
			if fi.Seq <= lastIncr {
				return nil, fmt.Errorf("manifest line %d: found a non-monotonic sequence number", n+1)
			}
			lastIncr = fi.Seq
			m.Incrs = append(m.Incrs, fi)
		default:
			return nil, fmt.Errorf("manifest line %d: unknown file type %q", n+1, string(rune(fi.Type)))
		}
	}
	if m.Base == nil && len(m.Incrs) == 0 && len(m.History) == 0 {
		return nil, errors.New("manifest lists no file")
	}
	return m, nil
}

// Marshal writes the manifest as Redis 7 does: base, history, incrs.
func (m *Manifest) Marshal() []byte {
	var b []byte
	line := func(fi FileInfo) {
		b = append(b, "file "...)
		b = appendRepr(b, fi.Name)
		b = append(b, " seq "...)
		b = strconv.AppendInt(b, fi.Seq, 10)
		b = append(b, " type "...)
		b = append(b, byte(fi.Type), '\n')
	}
	if m.Base != nil {
		line(*m.Base)
	}
	for _, fi := range m.History {
		line(fi)
	}
	for _, fi := range m.Incrs {
		line(fi)
	}
	return b
}

// Files lists what is loaded, in order: the base, then the incr files.
func (m *Manifest) Files() []FileInfo {
	var out []FileInfo
	if m.Base != nil {
		out = append(out, *m.Base)
	}
	return append(out, m.Incrs...)
}

func (m *Manifest) clone() *Manifest {
	c := &Manifest{Incrs: append([]FileInfo(nil), m.Incrs...), History: append([]FileInfo(nil), m.History...)}
	if m.Base != nil {
		b := *m.Base
		c.Base = &b
	}
	return c
}

func (m *Manifest) lastIncrSeq() int64 {
	if len(m.Incrs) == 0 {
		return 0
	}
	return m.Incrs[len(m.Incrs)-1].Seq
}

// ReadManifest reads dir/filename.manifest. A missing manifest is reported
// with an error satisfying errors.Is(err, os.ErrNotExist).
func ReadManifest(dir, filename string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName(filename)))
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifestName(filename)), err)
	}
	return m, nil
}

// writeManifest replaces the manifest atomically: a temp file, fsync,
// rename over the old one, fsync of the directory. A crash leaves either
// the old manifest or the new one.
func writeManifest(dir, filename string, m *Manifest, fault func(Op) error) error {
	tmp := filepath.Join(dir, tempManifestName(filename))
	if err := injected(fault, OpManifest); err != nil {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(m.Marshal())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, manifestName(filename)))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// splitArgs is the part of Redis's sdssplitargs a manifest needs: words
// separated by spaces, double-quoted words with \" \\ \n \r \t \xHH escapes.
func splitArgs(s string) ([]string, bool) {
	var out []string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			return out, true
		}
		var w []byte
		if s[i] == '"' {
			i++
			for {
				if i >= len(s) {
					return nil, false
				}
				c := s[i]
				if c == '"' {
					i++
					if i < len(s) && s[i] != ' ' && s[i] != '\t' {
						return nil, false
					}
					break
				}
				if c == '\\' && i+1 < len(s) {
					i++
					switch s[i] {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'x':
						if i+2 < len(s) {
							if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
								c = byte(v)
								i += 2
								break
							}
						}
						c = 'x'
					default:
						c = s[i]
					}
				}
				w = append(w, c)
				i++
			}
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				w = append(w, s[i])
				i++
			}
		}
		out = append(out, string(w))
	}
}

// appendRepr writes name as is when it needs no quoting, else quoted the way
// Redis's sdscatrepr does.
func appendRepr(b []byte, name string) []byte {
	plain := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '\'' {
			plain = false
		}
	}
	if plain {
		return append(b, name...)
	}
	b = append(b, '"')
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '\\' || c == '"':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c < ' ' || c >= 0x7f:
			b = append(b, `\x`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
