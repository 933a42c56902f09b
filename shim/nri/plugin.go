package nri

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"

	"github.com/sysgate/sysgate/shim"
	"github.com/sysgate/sysgate/spec"
	"github.com/sysgate/sysgate/spec/bundle"
)

// DefaultName and DefaultIndex register the plugin as "10-sysgate": NRI
// calls plugins in index order, and containerd's default validator's
// required_plugins names it "sysgate".
const (
	DefaultName  = "sysgate"
	DefaultIndex = "10"
)

// DefaultSocket is containerd's NRI socket unless configured otherwise
// (NRI's api.DefaultSocketPath).
const DefaultSocket = api.DefaultSocketPath

// Plugin decides at CreateContainer. The policy is read at every create,
// as sysgate-runc reads it, so an edit applies to the next container.
type Plugin struct {
	PolicyPath string
	// Logf receives one line per decision and per refusal.
	Logf func(format string, args ...any)
	// Metrics, when set, counts the plugin's decisions as the helper's
	// (`sysgate nri --metrics-listen`).
	Metrics shim.CreateMetrics
}

// CreateContainer decides the container's profile and returns it as an
// adjustment, with the signed decision record (and crun's program) as
// annotations. An error fails the CRI's CreateContainer with sysgate's
// message, which containerd passes to the kubelet and crictl.
func (p *Plugin) CreateContainer(_ context.Context, pod *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	adjust, err := p.adjustment(pod, ctr)
	if err != nil {
		p.logf("refused container %s (%s/%s %s): %v", ctr.GetId(), pod.GetNamespace(), pod.GetName(), ctr.GetName(), err)
		return nil, nil, fmt.Errorf("sysgate: %w", err)
	}
	return adjust, nil, nil
}

func (p *Plugin) adjustment(pod *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, error) {
	policy, err := spec.LoadPolicy(p.PolicyPath)
	if err != nil {
		return nil, fmt.Errorf("%w; fix the policy file (see docs/policy.md)", err)
	}
	if err := policy.CheckTrusted(); err != nil {
		return nil, err
	}
	handler := pod.GetRuntimeHandler()
	if len(policy.NRIRuntimeHandlers) > 0 && !slices.Contains(policy.NRIRuntimeHandlers, handler) {
		return nil, nil // another handler's Pod: nri_runtime_handlers scopes the plugin
	}
	if slices.Contains(policy.NRICrunHandlers, handler) {
		policy.RuntimeKind = "crun"
	} else if policy.RuntimeKind == "crun" || policy.HandsOverBPF() {
		// The policy's runtime is sysgate-runc's; under NRI the handler's
		// runtime is crun only where nri_crun_handlers says so.
		policy.RuntimeKind = "runc"
	}
	start := time.Now()
	c, err := spec.PlanNRI(ctr.GetId(), specOf(pod, ctr), criProfile(ctr), policy, carried)
	p.count(c, err, time.Since(start))
	if err != nil {
		return nil, err
	}
	d := c.Decision
	if c.Warning != "" {
		p.logf("warning: %s", c.Warning)
	}
	adjust := &api.ContainerAdjustment{}
	switch {
	case d.Profile != nil:
		adjust.SetLinuxSeccompPolicy(api.FromOCILinuxSeccomp(d.Profile))
	case ctr.GetLinux().GetSeccompPolicy() != nil:
		// NRI can set a profile but not remove one.
		return nil, fmt.Errorf("container %s: decided %s (%s), but containerd rendered a profile for it and NRI cannot remove one; run this Pod on the sysgate runtime handler", ctr.GetId(), d.Type, d.From)
	}
	record, err := json.Marshal(c.NRIRecord())
	if err != nil {
		return nil, err
	}
	adjust.AddAnnotation(bundle.AnnotationDecision, string(record))
	annotations := ctr.GetAnnotations()
	if bpf := c.BPF(); bpf != nil {
		adjust.AddAnnotation(bundle.AnnotationCrunBPF, base64.StdEncoding.EncodeToString(bpf))
	} else if _, ok := annotations[bundle.AnnotationCrunBPF]; ok {
		adjust.RemoveAnnotation(bundle.AnnotationCrunBPF)
	}
	// crun's other seccomp annotations would hand the listener to another
	// process or load a library into the notification path.
	for _, key := range []string{"run.oci.seccomp.receiver", "run.oci.seccomp.plugins"} {
		if _, ok := annotations[key]; ok {
			adjust.RemoveAnnotation(key)
		}
	}
	c.LogNRI(func(msg string) { p.logf("warning: %s", msg) })
	p.logf("container %s (%s/%s %s, handler %q): %s %s %s from %s, digest %s, handoff %v, %v", ctr.GetId(), pod.GetNamespace(), pod.GetName(), ctr.GetName(), handler, d.Source, d.Type, d.Ref, d.From, d.Digest, c.BPF() != nil, time.Since(start).Round(time.Microsecond))
	return adjust, nil
}

// Configure notes who configured the plugin; the events are those the
// plugin implements (CreateContainer).
func (p *Plugin) Configure(_ context.Context, _, runtime, version string) (api.EventMask, error) {
	p.logf("configured by %s %s", runtime, version)
	return 0, nil
}

// Synchronize is the end of registration: from here on containerd asks
// the plugin about every container it creates.
func (p *Plugin) Synchronize(_ context.Context, pods []*api.PodSandbox, ctrs []*api.Container) ([]*api.ContainerUpdate, error) {
	p.logf("registered: %d Pods and %d containers exist", len(pods), len(ctrs))
	return nil, nil
}

// count feeds a decision to the metrics, as the helper counts its creates.
func (p *Plugin) count(c *spec.Create, err error, took time.Duration) {
	shim.CountCreate(p.Metrics, c, err, took)
}

func (p *Plugin) logf(format string, args ...any) {
	if p.Logf != nil {
		p.Logf(format, args...)
	}
}

// Options say how the plugin reaches containerd.
type Options struct {
	// Socket is containerd's NRI socket; empty: NRI's default
	// (/var/run/nri/nri.sock), or the connection containerd passes to a
	// plugin it launched from its plugin_path.
	Socket      string
	Name, Index string
	// Reconnect: after containerd closes the connection (a restart), wait
	// this long and register again; 0 returns instead.
	Reconnect time.Duration
}

// Run registers the plugin with containerd and serves until ctx ends (or
// the connection closes, without Reconnect).
func (p *Plugin) Run(ctx context.Context, o Options) error {
	for {
		err := p.runOnce(ctx, o)
		if ctx.Err() != nil {
			return nil
		}
		if o.Reconnect == 0 {
			return err
		}
		p.logf("NRI connection ended (%v); registering again in %s", err, o.Reconnect)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.Reconnect):
		}
	}
}

func (p *Plugin) runOnce(ctx context.Context, o Options) error {
	opts := []stub.Option{stub.WithOnClose(func() {})}
	if o.Socket != "" {
		opts = append(opts, stub.WithSocketPath(o.Socket))
	}
	if o.Name != "" {
		opts = append(opts, stub.WithPluginName(o.Name))
	}
	if o.Index != "" {
		opts = append(opts, stub.WithPluginIdx(o.Index))
	}
	s, err := stub.New(p, opts...)
	if err != nil {
		return fmt.Errorf("NRI plugin: %w", err)
	}
	err = s.Run(ctx)
	if err == nil {
		err = errors.New("connection closed")
	}
	return err
}
