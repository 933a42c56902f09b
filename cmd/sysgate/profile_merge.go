package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/shim/record"
	"github.com/sysgate/sysgate/spec/profile"
)

// runMerge writes the union of profiles (recordings of replicas or runs).
// Every input must be a valid profile; the union is validated and
// compiled before it is written, and written atomically.
func runMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile merge", "A B... -o OUT [--caps LIST] [--format json|spo] [--name NAME]", stdout)
	out := fs.String("o", "", "the merged profile to write (required)")
	format := fs.String("format", "json", "json (OCI) or spo (SeccompProfile YAML)")
	name := fs.String("name", "", "the SeccompProfile's name with --format spo (default: OUT's name)")
	capList := fs.String("caps", "", "bounding capabilities a Docker-format profile (includes/excludes) is rendered for (default: the OCI default set)")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: -o is required", errUsage)
	}
	if len(files) < 2 {
		return fmt.Errorf("%w: give two or more profiles to merge", errUsage)
	}
	if *format != "json" && *format != "spo" {
		return fmt.Errorf("%w: --format must be json or spo, not %q", errUsage, *format)
	}
	caps := profile.DefaultCapabilities
	if *capList != "" {
		if caps, err = profile.ParseCapabilities(*capList); err != nil {
			return fmt.Errorf("--caps: %w", err)
		}
	}
	var in []record.Named
	meta := record.Metadata{Recorder: "sysgate " + version, Source: "merge"}
	for _, f := range files {
		p, err := loadForDiff(f, caps, stderr)
		if err == nil {
			p, _, err = compileLoaded(f, p, filter.Options{}, stderr)
		}
		if err != nil {
			return fmt.Errorf("%s: %w; nothing was written", f, err)
		}
		in = append(in, record.Named{Name: f, Profile: p})
		if m, ok := readRecordingMeta(f); ok {
			meta.Records += m.Records
			meta.Lost += m.Lost
			meta.Command = append(meta.Command, f)
		}
	}
	merged, err := record.Merge(in)
	if err != nil {
		return fmt.Errorf("%w; nothing was written", err)
	}
	if _, _, err := compileLoaded(*out+" (merged)", merged, filter.Options{}, stderr); err != nil {
		return fmt.Errorf("the union is not a valid profile: %w; nothing was written", err)
	}
	if meta.Lost > 0 {
		return fmt.Errorf("an input is an incomplete recording (%d calls lost): its union would be incomplete too; nothing was written", meta.Lost)
	}
	output, err := record.Open(*out)
	if err != nil {
		return err
	}
	defer output.Close()
	var data []byte
	if *format == "spo" {
		if *name == "" {
			*name = strings.TrimSuffix(filepath.Base(*out), filepath.Ext(*out))
		}
		data, err = record.MarshalSPO(merged, meta, *name, "")
	} else {
		data, err = record.Marshal(merged, meta)
	}
	if err != nil {
		return err
	}
	written, err := output.Write(data, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sysgate profile merge: %d profiles merged into %s\n", len(files), written)
	return nil
}

func readRecordingMeta(path string) (record.Metadata, bool) {
	data, err := readSmall(path)
	if err != nil {
		return record.Metadata{}, false
	}
	return record.ReadMetadata(data)
}

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, profile.MaxSize+1))
}
