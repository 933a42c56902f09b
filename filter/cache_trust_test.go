package filter_test

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sysgate/sysgate/filter"
)

// A cached program goes into containers without being compiled again, so
// whoever can write the cache could hand a container any filter, such as a
// one-instruction "allow everything" (issue 13, item 3). These attacks must
// not get a forged or misplaced program used.
func TestCacheRefusesWhatOthersCouldWrite(t *testing.T) {
	profile := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}
	other := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64}}
	want, err := filter.Compile(profile, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// filled returns a cache holding a sound entry for profile and one for
	// other, and their paths.
	filled := func(t *testing.T) (c *filter.Cache, entry, otherEntry string) {
		c = &filter.Cache{Dir: filepath.Join(t.TempDir(), "cache"), Salt: "test"}
		if _, _, err := c.Compile(other, filter.Options{}); err != nil {
			t.Fatal(err)
		}
		otherEntry = onlyEntry(t, c.Dir)
		if _, _, err := c.Compile(profile, filter.Options{}); err != nil {
			t.Fatal(err)
		}
		for _, e := range cacheEntries(t, c.Dir) {
			if e != otherEntry {
				entry = e
			}
		}
		if _, hit := c.Lookup(profile, filter.Options{}); !hit {
			t.Fatal("no hit for a sound entry")
		}
		return c, entry, otherEntry
	}
	assertMiss := func(t *testing.T, c *filter.Cache) {
		t.Helper()
		prog, hit := c.Lookup(profile, filter.Options{})
		if hit {
			t.Fatalf("a hit (%d instructions) from a cache entry that must not be used", len(prog.Instructions))
		}
		// Compile still gives the right program, from libseccomp.
		got, _, err := c.Compile(profile, filter.Options{})
		if err != nil || string(got.Bytes()) != string(want.Bytes()) {
			t.Fatalf("compile through the cache: %v", err)
		}
	}
	t.Run("an entry renamed to another key", func(t *testing.T) {
		c, entry, otherEntry := filled(t)
		// The allow-all program's entry, sound and checksummed, under the
		// name of the mkdir-blocking profile's key.
		if err := os.Rename(otherEntry, entry); err != nil {
			t.Fatal(err)
		}
		assertMiss(t, c)
	})
	t.Run("a cache directory others may write", func(t *testing.T) {
		c, _, _ := filled(t)
		if err := os.Chmod(c.Dir, 0o777); err != nil {
			t.Fatal(err)
		}
		assertMiss(t, c)
		if n := len(cacheEntries(t, c.Dir)); n != 2 {
			t.Errorf("%d entries: nothing may be stored in an untrusted directory", n)
		}
	})
	t.Run("an entry others may write", func(t *testing.T) {
		c, entry, _ := filled(t)
		if err := os.Chmod(entry, 0o666); err != nil {
			t.Fatal(err)
		}
		assertMiss(t, c)
	})
	t.Run("a symlinked cache directory", func(t *testing.T) {
		c, _, _ := filled(t)
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(c.Dir, link); err != nil {
			t.Fatal(err)
		}
		assertMiss(t, &filter.Cache{Dir: link, Salt: c.Salt})
	})
	t.Run("an entry of another user", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give a file to another user")
		}
		c, entry, _ := filled(t)
		if err := os.Chown(entry, 1234, 1234); err != nil {
			t.Fatal(err)
		}
		assertMiss(t, c)
	})
	t.Run("another salt is another key", func(t *testing.T) {
		c, _, _ := filled(t)
		if _, hit := (&filter.Cache{Dir: c.Dir, Salt: "another validator"}).Lookup(profile, filter.Options{}); hit {
			t.Error("an entry stored under another salt was used")
		}
	})
}

func onlyEntry(t *testing.T, dir string) string {
	t.Helper()
	e := cacheEntries(t, dir)
	if len(e) != 1 {
		t.Fatalf("entries %v, want one", e)
	}
	return e[0]
}
