package containerd

import (
	"context"
	"errors"
	"fmt"

	taskAPI "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2/task"
	shimlib "github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/containerd/v2/pkg/shutdown"
	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/log"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/refusal"
)

// RuntimeType is what operators write as the runtime handler's
// runtime_type; containerd maps it to the binary containerd-shim-sysgate-v1.
const RuntimeType = "io.containerd.sysgate.v1"

func init() {
	// The same registration as the runc shim's task/plugin package, with
	// the service wrapped.
	registry.Register(&plugin.Registration{
		Type:     plugins.TTRPCPlugin,
		ID:       "task",
		Requires: []plugin.Type{plugins.EventPlugin, plugins.InternalPlugin},
		InitFn: func(ic *plugin.InitContext) (any, error) {
			pp, err := ic.GetByID(plugins.EventPlugin, "publisher")
			if err != nil {
				return nil, err
			}
			ss, err := ic.GetByID(plugins.InternalPlugin, "shutdown")
			if err != nil {
				return nil, err
			}
			inner, err := task.NewTaskService(ic.Context, pp.(shimlib.Publisher), ss.(shutdown.Service))
			if err != nil {
				return nil, err
			}
			return NewService(inner, spec.PolicyPath()), nil
		},
	})
}

// Service is the runc shim's task service with the seccomp decision in
// front of Create. Every other call goes to the runc service unchanged.
type Service struct {
	taskAPI.TTRPCTaskService
	policyPath string

	// prepare is shim.Prepare; tests replace it.
	prepare func(bundleDir, id string, policy spec.Policy, warn func(string)) (spec.Decision, error)
}

// NewService wraps inner. The policy is read at every Create, not once: one
// shim serves a whole Pod for its lifetime, and a policy change must reach
// the Pod's next container like it does under sysgate-runc.
func NewService(inner taskAPI.TTRPCTaskService, policyPath string) *Service {
	return &Service{TTRPCTaskService: inner, policyPath: policyPath, prepare: shim.Prepare}
}

// RegisterTTRPC serves the wrapped service; the runc service's own
// RegisterTTRPC would register the unwrapped one.
func (s *Service) RegisterTTRPC(server *ttrpc.Server) error {
	taskAPI.RegisterTTRPCTaskService(server, s)
	return nil
}

// Create decides and rewrites the bundle's profile, then lets runc create
// the task. A refusal is FailedPrecondition and an internal fault Internal,
// each with sysgate's message, which containerd's CRI passes on to the
// kubelet (and crictl) as the create error.
func (s *Service) Create(ctx context.Context, r *taskAPI.CreateTaskRequest) (*taskAPI.CreateTaskResponse, error) {
	policy, err := spec.LoadPolicy(s.policyPath)
	if err != nil {
		return nil, refuse(fmt.Errorf("sysgate: %w; fix the policy file (see docs/policy.md)", err))
	}
	if err := withRuntime(r, policy.Runtime); err != nil {
		return nil, refuse(fmt.Errorf("sysgate: %w", err))
	}
	warn := func(msg string) { log.G(ctx).WithField("id", r.ID).Warn("sysgate: " + msg) }
	d, err := s.prepare(r.Bundle, r.ID, policy, warn)
	if err != nil {
		return nil, refuse(fmt.Errorf("sysgate: %w", err))
	}
	log.G(ctx).WithField("id", r.ID).WithField("source", d.Source).WithField("type", d.Type).WithField("ref", d.Ref).Debug("sysgate: decided")
	return s.TTRPCTaskService.Create(ctx, r)
}

// refuse is a flat status: errgrpc would encode each wrapped error as a
// detail, and containerd prints those after the message, so the Pod event
// would repeat sysgate's sentence three times.
func refuse(err error) error {
	code := codes.Internal
	if _, refused := refusal.Of(err); refused {
		code = codes.FailedPrecondition
	}
	return status.Error(code, err.Error())
}

// withRuntime makes the policy's runtime key mean the same under the shim as
// under sysgate-runc: it is the runc binary, unless the handler's options
// already name one. Only runc's options type is understood; containerd's CRI
// sends its generic runtimeoptions for any runtime_type other than
// io.containerd.runc.v2, and the runc shim would panic on those.
func withRuntime(r *taskAPI.CreateTaskRequest, runtime string) error {
	opts := &options.Options{}
	if r.Options.GetValue() != nil {
		v, err := typeurl.UnmarshalAny(r.Options)
		if err != nil {
			return fmt.Errorf("runtime options: %w", err)
		}
		o, ok := v.(*options.Options)
		if !ok {
			return refusal.New(refusal.BadInput, errors.New("runtime options of type "+r.Options.GetTypeUrl()+" are not runc options; remove the handler's [options] table (sysgate's policy names the runtime) or use io.containerd.runc.v2 with BinaryName = sysgate-runc"))
		}
		opts = o
	}
	if opts.BinaryName != "" {
		return nil
	}
	opts.BinaryName = runtime
	a, err := typeurl.MarshalAnyToProto(opts)
	if err != nil {
		return err
	}
	r.Options = a
	return nil
}
