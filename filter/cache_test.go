package filter_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/profile"
)

func cacheEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := filepath.Glob(filepath.Join(dir, "*.bpf"))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestCacheHitAndKey(t *testing.T) {
	cache := &filter.Cache{Dir: t.TempDir()}
	profile := profile.RuntimeDefault(profile.DefaultCapabilities)
	want, err := filter.Compile(profile, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, hit, err := cache.Compile(profile, filter.Options{})
	if err != nil || hit {
		t.Fatalf("first compile: hit %v, %v", hit, err)
	}
	second, hit, err := cache.Compile(profile, filter.Options{})
	if err != nil || !hit {
		t.Fatalf("second compile: hit %v, %v", hit, err)
	}
	for _, got := range []*filter.Program{first, second} {
		if !bytes.Equal(got.Bytes(), want.Bytes()) || got.StubLength != want.StubLength || got.Flags != want.Flags ||
			strings.Join(got.Ignored, ",") != strings.Join(want.Ignored, ",") || len(got.Arches) != len(want.Arches) ||
			!slices.Equal(got.ByNumber, want.ByNumber) {
			t.Errorf("cached program differs from a fresh compile")
		}
	}
	if len(want.ByNumber) == 0 {
		t.Error("RuntimeDefault names syscalls newer than libseccomp: the test must show that the cache keeps ByNumber")
	}
	// Inputs that change the program change the key.
	noFlags := *profile
	noFlags.Flags = []specs.LinuxSeccompFlag{}
	keys := map[string]bool{}
	for _, c := range []struct {
		p    *specs.LinuxSeccomp
		opts filter.Options
	}{
		{profile, filter.Options{}},
		{&noFlags, filter.Options{}},
		{profile, filter.Options{Optimize: filter.OptimizeLinear}},
		{profile, filter.Options{Joint: true}},
		{profile, filter.Options{Arches: []specs.Arch{specs.ArchX86_64}}},
	} {
		k, err := filter.CacheKey(c.p, c.opts)
		if err != nil || keys[k] {
			t.Errorf("key %s for %+v: duplicate or error %v", k, c.opts, err)
		}
		keys[k] = true
	}
}

// TestCacheCorruption: a damaged entry is never loaded; it is removed and
// the program compiled again.
func TestCacheCorruption(t *testing.T) {
	profile := profile.RuntimeDefault(profile.DefaultCapabilities)
	want, err := filter.Compile(profile, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		damage func(data []byte) []byte
	}{
		{"one flipped bit in the program", func(d []byte) []byte { d[len(d)/2] ^= 0x10; return d }},
		{"one flipped bit in the checksum", func(d []byte) []byte { d[len(d)-1] ^= 1; return d }},
		{"truncated", func(d []byte) []byte { return d[:len(d)-9] }},
		{"empty", func(d []byte) []byte { return nil }},
		{"not an entry", func(d []byte) []byte { return []byte("#!/bin/sh\nexit 0\n") }},
		{"wrong magic", func(d []byte) []byte { d[0] = 'X'; return d }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := &filter.Cache{Dir: t.TempDir()}
			if _, _, err := cache.Compile(profile, filter.Options{}); err != nil {
				t.Fatal(err)
			}
			entries := cacheEntries(t, cache.Dir)
			if len(entries) != 1 {
				t.Fatalf("%d entries", len(entries))
			}
			data, _ := os.ReadFile(entries[0])
			if err := os.WriteFile(entries[0], tc.damage(data), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, hit := cache.Lookup(profile, filter.Options{}); hit {
				t.Fatal("a damaged entry was served")
			}
			if _, err := os.Stat(entries[0]); !os.IsNotExist(err) {
				t.Errorf("the damaged entry was not removed: %v", err)
			}
			got, hit, err := cache.Compile(profile, filter.Options{})
			if err != nil || hit || !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("recompile: hit %v, err %v, equal %v", hit, err, bytes.Equal(got.Bytes(), want.Bytes()))
			}
			if _, hit := cache.Lookup(profile, filter.Options{}); !hit {
				t.Error("the healed entry is not served")
			}
		})
	}
}

// TestCacheConcurrentWriters: many creates compiling the same and different
// profiles at once all get correct programs, and the cache ends with one
// sound entry per profile and no temporary files.
func TestCacheConcurrentWriters(t *testing.T) {
	cache := &filter.Cache{Dir: t.TempDir()}
	profiles := []*specs.LinuxSeccomp{
		profile.RuntimeDefault(profile.DefaultCapabilities),
		profile.RuntimeDefault(append([]string{"CAP_SYS_ADMIN"}, profile.DefaultCapabilities...)),
		profile.RuntimeDefault(nil),
	}
	want := make([][]byte, len(profiles))
	for i, p := range profiles {
		prog, err := filter.Compile(p, filter.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = prog.Bytes()
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for w := 0; w < 24; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := w % len(profiles)
			for round := 0; round < 3; round++ {
				prog, _, err := cache.Compile(profiles[i], filter.Options{})
				if err != nil {
					errs <- err.Error()
					return
				}
				if !bytes.Equal(prog.Bytes(), want[i]) {
					errs <- "a writer got a program that differs from a fresh compile"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := len(cacheEntries(t, cache.Dir)); n != len(profiles) {
		t.Errorf("%d entries for %d profiles", n, len(profiles))
	}
	all, _ := os.ReadDir(cache.Dir)
	for _, e := range all {
		if !strings.HasSuffix(e.Name(), ".bpf") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	for i, p := range profiles {
		if prog, hit := cache.Lookup(p, filter.Options{}); !hit || !bytes.Equal(prog.Bytes(), want[i]) {
			t.Errorf("profile %d: hit %v after the race", i, hit)
		}
	}
}

// TestCacheBounded: past MaxBytes the least recently used entries go.
// Every round ages all entries by two minutes, past the resolution at
// which a hit records its time.
func TestCacheBounded(t *testing.T) {
	cache := &filter.Cache{Dir: t.TempDir(), MaxBytes: 40 << 10}
	var keep *specs.LinuxSeccomp
	for i := 0; i < 12; i++ {
		p := profile.RuntimeDefault(profile.DefaultCapabilities)
		p.DefaultErrnoRet = new(uint)
		*p.DefaultErrnoRet = uint(i + 1) // a distinct profile each time
		if i == 0 {
			keep = p
		}
		if _, _, err := cache.Compile(p, filter.Options{}); err != nil {
			t.Fatal(err)
		}
		for _, e := range cacheEntries(t, cache.Dir) {
			if st, err := os.Stat(e); err == nil {
				old := st.ModTime().Add(-2 * time.Minute)
				os.Chtimes(e, old, old)
			}
		}
		cache.Lookup(keep, filter.Options{}) // keep the first one recently used
	}
	var total int64
	for _, e := range cacheEntries(t, cache.Dir) {
		st, _ := os.Stat(e)
		total += st.Size()
	}
	if total > cache.MaxBytes {
		t.Errorf("cache holds %d bytes, bound %d", total, cache.MaxBytes)
	}
	if _, hit := cache.Lookup(keep, filter.Options{}); !hit {
		t.Error("the most recently used entry was evicted")
	}
}
