package profile

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sysgate/sysgate/spec/internal/profiletest"
)

// Docker's own default profile, rendered by sysgate for a container's
// capabilities, is exactly what moby's loader renders for the same
// container on this node: a differential test against moby's code
// (github.com/moby/profiles/seccomp), never a copy of its file.
func TestRenderMatchesMoby(t *testing.T) {
	raw, err := json.Marshal(mobyseccomp.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	template, err := ParseTemplate(raw)
	if err != nil {
		t.Fatalf("moby's default profile does not parse: %v", err)
	}
	if !template.Conditional() {
		t.Fatal("moby's default profile has no conditional rule: the test proves nothing")
	}
	sets := capabilitySets()
	if len(sets) < 50 {
		t.Fatalf("%d capability sets, want at least 50", len(sets))
	}
	distinct := map[string]bool{}
	for _, caps := range sets {
		want, err := mobyseccomp.LoadProfile(string(raw), &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}})
		if err != nil {
			t.Fatalf("moby's loader: %v", err)
		}
		got := template.Render(caps, HostNode())
		if !reflect.DeepEqual(profiletest.Normalize(got), profiletest.Normalize(want)) {
			t.Errorf("capabilities %v: sysgate renders %d rules, moby %d\nsysgate: %+v\nmoby:    %+v", caps, len(got.Syscalls), len(want.Syscalls), got, want)
		}
		data, _ := json.Marshal(got)
		distinct[string(data)] = true
	}
	// The sets must reach the conditions: with none, all, and single
	// capabilities, moby's profile renders differently.
	if len(distinct) < 5 {
		t.Errorf("only %d distinct renderings over %d capability sets: the conditions were not exercised", len(distinct), len(sets))
	}
}

// capabilitySets: none, containerd's default set, every capability, each
// capability alone, and random subsets.
func capabilitySets() [][]string {
	all := slices.DeleteFunc(slices.Clone(CapabilityNames[:]), func(c string) bool { return c == "" })
	sets := [][]string{nil, DefaultCapabilities, all}
	for _, c := range all {
		sets = append(sets, []string{c})
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		var set []string
		for _, c := range all {
			if r.IntN(2) == 0 {
				set = append(set, c)
			}
		}
		sets = append(sets, set)
	}
	return sets
}
