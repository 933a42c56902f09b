package filter_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/profile"
)

// TestCacheMemoFollowsTheFile: the decoded entries a process keeps are
// served only while the file is the one they were read from. An entry
// damaged in place, one renamed over it from another key, and a chmod that
// makes it untrusted are all seen at the next lookup, as without the memo;
// and what a caller does to a served program does not reach the next one.
func TestCacheMemoFollowsTheFile(t *testing.T) {
	seccomp := profile.RuntimeDefault(profile.DefaultCapabilities)
	other := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}
	want, err := filter.Compile(seccomp, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fresh := func(t *testing.T) (*filter.Cache, string) {
		cache := &filter.Cache{Dir: t.TempDir()}
		if _, _, err := cache.Compile(seccomp, filter.Options{}); err != nil {
			t.Fatal(err)
		}
		// The first lookup reads the file, the next ones are served from
		// memory; each caller spoils what it got.
		for i := range 3 {
			served, hit := cache.Lookup(seccomp, filter.Options{})
			if !hit || !bytes.Equal(served.Bytes(), want.Bytes()) || served.Arches[0] != want.Arches[0] {
				t.Fatalf("lookup %d: hit %v, or a change to a served program reached it", i, hit)
			}
			served.Instructions[0].K ^= 1
			served.Arches[0] = "SCMP_ARCH_ARM"
		}
		return cache, cacheEntries(t, cache.Dir)[0]
	}
	t.Run("damaged in place", func(t *testing.T) {
		cache, entry := fresh(t)
		data, _ := os.ReadFile(entry)
		data[len(data)/2] ^= 0x10
		if err := os.WriteFile(entry, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// The same size, written within one tick of the file clock,
		// would keep the identity; a real writer renames (a new inode).
		past := time.Now().Add(-time.Hour)
		os.Chtimes(entry, past, past)
		if _, hit := cache.Lookup(seccomp, filter.Options{}); hit {
			t.Fatal("a damaged entry was served from memory")
		}
	})
	t.Run("another key's entry renamed over it", func(t *testing.T) {
		cache, entry := fresh(t)
		if _, _, err := cache.Compile(other, filter.Options{}); err != nil {
			t.Fatal(err)
		}
		otherKey, _ := filter.CacheKey(other, filter.Options{})
		if err := os.Rename(cache.Dir+"/"+otherKey+".bpf", entry); err != nil {
			t.Fatal(err)
		}
		if _, hit := cache.Lookup(seccomp, filter.Options{}); hit {
			t.Fatal("another profile's program was served from memory")
		}
	})
	t.Run("made writable by others", func(t *testing.T) {
		cache, entry := fresh(t)
		if err := os.Chmod(entry, 0o666); err != nil {
			t.Fatal(err)
		}
		if _, hit := cache.Lookup(seccomp, filter.Options{}); hit {
			t.Fatal("an entry anyone can write was served from memory")
		}
	})
}
