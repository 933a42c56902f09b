package containerd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	taskAPI "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/containerd/api/types/runc/options"
	runtimeoptions "github.com/containerd/containerd/api/types/runtimeoptions/v1"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/refusal"
)

// fakeTasks records whether Create reached the runc service.
type fakeTasks struct {
	taskAPI.TTRPCTaskService
	created *taskAPI.CreateTaskRequest
}

func (f *fakeTasks) Create(_ context.Context, r *taskAPI.CreateTaskRequest) (*taskAPI.CreateTaskResponse, error) {
	f.created = r
	return &taskAPI.CreateTaskResponse{Pid: 42}, nil
}

func newTestService(t *testing.T, policy string, prepareErr error) (*Service, *fakeTasks, *[]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	inner := &fakeTasks{}
	s := NewService(inner, path)
	var prepared []string
	s.prepare = func(bundleDir, id string, _ spec.Policy, _ func(string)) (spec.Decision, error) {
		prepared = append(prepared, bundleDir+":"+id)
		return spec.Decision{Source: "node default"}, prepareErr
	}
	return s, inner, &prepared
}

func TestCreatePreparesThenDelegates(t *testing.T) {
	s, inner, prepared := newTestService(t, `runtime = "/opt/runc"`, nil)
	resp, err := s.Create(context.Background(), &taskAPI.CreateTaskRequest{ID: "c1", Bundle: "/b"})
	if err != nil || resp.Pid != 42 {
		t.Fatalf("Create: %v %v", resp, err)
	}
	if len(*prepared) != 1 || (*prepared)[0] != "/b:c1" || inner.created == nil {
		t.Fatalf("prepared %v, delegated %v", *prepared, inner.created != nil)
	}
	// The policy's runtime becomes runc's BinaryName, as under sysgate-runc.
	v, err := typeurl.UnmarshalAny(inner.created.Options)
	if err != nil || v.(*options.Options).BinaryName != "/opt/runc" {
		t.Fatalf("options %v %v", v, err)
	}
}

func TestCreateKeepsHandlerBinaryName(t *testing.T) {
	s, inner, _ := newTestService(t, `runtime = "/opt/runc"`, nil)
	a, _ := typeurl.MarshalAnyToProto(&options.Options{BinaryName: "/usr/bin/crun", SystemdCgroup: true})
	if _, err := s.Create(context.Background(), &taskAPI.CreateTaskRequest{ID: "c1", Bundle: "/b", Options: a}); err != nil {
		t.Fatal(err)
	}
	v, _ := typeurl.UnmarshalAny(inner.created.Options)
	if o := v.(*options.Options); o.BinaryName != "/usr/bin/crun" || !o.SystemdCgroup {
		t.Fatalf("options changed: %v", o)
	}
}

func TestCreateRefusals(t *testing.T) {
	foreign, _ := typeurl.MarshalAnyToProto(&runtimeoptions.Options{TypeUrl: "x"})
	for _, c := range []struct {
		name, policy string
		prepareErr   error
		opts         *taskAPI.CreateTaskRequest
		want         string
		code         codes.Code
	}{
		{"decision refused", "", refusal.Errorf(refusal.Policy, "policy says no"), &taskAPI.CreateTaskRequest{ID: "c"}, "sysgate: policy says no", codes.FailedPrecondition},
		{"internal fault", "", errors.New("rewriting config.json: no space left on device"), &taskAPI.CreateTaskRequest{ID: "c"}, "no space left", codes.Internal},
		{"bad policy", "runtime = 1", nil, &taskAPI.CreateTaskRequest{ID: "c"}, "fix the policy file", codes.Internal},
		{"generic runtime options", "", nil, &taskAPI.CreateTaskRequest{ID: "c", Options: foreign}, "are not runc options", codes.FailedPrecondition},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, inner, _ := newTestService(t, c.policy, c.prepareErr)
			_, err := s.Create(context.Background(), c.opts)
			if st, _ := status.FromError(err); st.Code() != c.code || !strings.Contains(st.Message(), c.want) {
				t.Fatalf("got %v, want %v with %q", err, c.code, c.want)
			}
			if inner.created != nil {
				t.Fatal("a refused container reached runc")
			}
		})
	}
}
