package spec

import (
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// recordKeyFile holds the node's key for decision records, in the cache
// directory: root's, nobody else may write it (CheckTrusted), and eviction
// removes only compiled programs.
const recordKeyFile = "record.key"

// RecordKey returns the node's key for the decision records sysgate writes
// into bundles, making it on first use. Without a cache directory, or when
// the key cannot be read or made, it returns nil: records are then written
// unsigned and a record found in a bundle is never kept.
func (p Policy) RecordKey() []byte {
	if p.CacheDir == "" {
		return nil
	}
	path := filepath.Join(p.CacheDir, recordKeyFile)
	// The helper asks at every create; the key does not change under it.
	if key, ok := recordKeys.Load(path); ok {
		return key.([]byte)
	}
	key := p.loadRecordKey(path)
	if key != nil {
		recordKeys.Store(path, key)
	}
	return key
}

var recordKeys sync.Map // path -> key

func (p Policy) loadRecordKey(path string) []byte {
	if key, err := os.ReadFile(path); err == nil && len(key) == 32 {
		return key
	}
	if err := os.MkdirAll(p.CacheDir, 0o700); err != nil {
		return nil
	}
	key := make([]byte, 32)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another create made it first.
		if key, err := os.ReadFile(path); err == nil && len(key) == 32 {
			return key
		}
		return nil
	}
	if err != nil {
		return nil
	}
	_, err = f.Write(key)
	if closeErr := f.Close(); err != nil || closeErr != nil {
		os.Remove(path)
		return nil
	}
	return key
}
