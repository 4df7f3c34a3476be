package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "ringkv.conf")
	os.WriteFile(conf, []byte("# a comment\nport 7000\nbind 127.0.0.1\nio epoll\nsave \"\"\nappendonly no\nmaxclients 50\nclient-output-buffer-limit normal 1048576 0 0\n"), 0o644)
	cases := []struct {
		name string
		args []string
		want string // "port bind io maxclients hard"; "" when an error is expected
		err  string
	}{
		{"defaults", nil, "6379 127.0.0.1  0 0", ""},
		{"flags", []string{"--port", "6380", "--bind", "127.0.0.1", "--io", "uring"}, "6380 127.0.0.1 uring 0 0", ""},
		{"empty save", []string{"--save", "", "--appendonly", "no"}, "6379 127.0.0.1  0 0", ""},
		{"config file", []string{conf}, "7000 127.0.0.1 epoll 50 1048576", ""},
		{"flags override file", []string{conf, "--port", "7001"}, "7001 127.0.0.1 epoll 50 1048576", ""},
		{"bad io", []string{"--io", "kqueue"}, "", "io: must be auto, uring or epoll"},
		{"bad port", []string{"--port", "x"}, "", "not a valid number"},
		{"unknown", []string{"--no-such-thing", "1"}, "", "bad directive"},
		{"stray arg", []string{"--port", "1", "2"}, "", "wrong number of arguments"},
		{"missing file", []string{filepath.Join(dir, "nope.conf")}, "", "no such file"},
	}
	for _, tc := range cases {
		cfg, err := parseArgs(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		bind := cfg.Bind
		if bind == "" {
			bind = "127.0.0.1" // conn fills the default
		}
		got := strings.Join([]string{strconv.Itoa(cfg.Port), bind, cfg.IO, strconv.Itoa(cfg.MaxClients), strconv.Itoa(cfg.ReplyHardLimit)}, " ")
		if got != tc.want {
			t.Errorf("%s: got %q want %q", tc.name, got, tc.want)
		}
	}
}
