package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/sysgate/sysgate/filter"
	"github.com/sysgate/sysgate/spec/profile"
)

// DefaultPolicyPath is where the node's policy lives; SYSGATE_CONFIG
// overrides it.
const (
	DefaultPolicyPath = "/etc/sysgate/config.toml"
	PolicyPathEnv     = "SYSGATE_CONFIG"
)

// What the policy says to do with a container whose final decision is
// Unconfined.
const (
	UnconfinedAllow = "allow" // run it, like Kubernetes
	UnconfinedDeny  = "deny"  // refuse to create it, unless its namespace is exempt
	UnconfinedAudit = "audit" // run it, but warn and record it
)

// Policy is the node's seccomp policy, read from TOML. Every field has a
// default, so a node without a policy file is hardened (RuntimeDefault for
// every container that asks for nothing).
type Policy struct {
	// Runtime is the real OCI runtime sysgate hands over to.
	Runtime string `toml:"runtime"`
	// ProfileRoot is where Localhost profiles are resolved, like the
	// kubelet's <root-dir>/seccomp.
	ProfileRoot string `toml:"profile_root"`
	// Default is the profile for containers that ask for none:
	// "runtime/default", "localhost/<path>" or "unconfined".
	Default string `toml:"default"`
	// RuntimeDefault, if set, is a profile file that replaces containerd's
	// built-in RuntimeDefault profile on this node.
	RuntimeDefault string `toml:"runtime_default"`
	// Privileged is the profile for privileged containers (all
	// capabilities, no masked paths), which Kubernetes runs unconfined.
	Privileged string `toml:"privileged"`
	// Unconfined is allow, deny or audit.
	Unconfined string `toml:"unconfined"`
	// ExemptNamespaces may run unconfined containers when Unconfined is deny.
	ExemptNamespaces []string `toml:"exempt_namespaces"`
	// Audit turns every ERRNO and KILL default action into LOG, to learn what
	// a workload needs before enforcing.
	Audit bool `toml:"audit"`
	// AuditNamespaces are namespaces in audit mode: Audit, for their
	// containers only.
	AuditNamespaces []string `toml:"audit_namespaces"`
	// AuditOptInNamespaces are namespaces whose containers may ask for
	// audit mode themselves, with the annotation AnnotationAudit; elsewhere
	// the annotation is refused, so that a Pod author never weakens their
	// own filter where the operator did not allow it.
	AuditOptInNamespaces []string `toml:"audit_opt_in_namespaces"`
	// LogDenials adds SECCOMP_FILTER_FLAG_LOG to the profiles sysgate
	// applies, so the kernel records every denial (ERRNO, TRAP, KILL,
	// NOTIFY), not only LOG and KILL outcomes. Left out where the runtime
	// refuses flags (runc 1.1).
	LogDenials bool `toml:"log_denials"`
	// Denials starts the denial collector in `sysgate helper`: it reads the
	// kernel's seccomp records, attributes them to containers and writes
	// DenialLog.
	Denials bool `toml:"denials"`
	// DenialLog receives the collector's JSON lines; DenialLogMaxBytes
	// bounds it as DecisionLogMaxBytes bounds the decision log.
	DenialLog         string `toml:"denial_log"`
	DenialLogMaxBytes int64  `toml:"denial_log_max_bytes"`
	// MetricsListen, if set, is the address (host:port) where the helper
	// serves Prometheus metrics; empty serves none.
	MetricsListen string `toml:"metrics_listen"`
	// DecisionLog, if set, is a file that receives one JSON line per decision.
	DecisionLog string `toml:"decision_log"`
	// DecisionLogMaxBytes bounds the decision log: past it the file moves to
	// DecisionLog + ".1" (replacing the previous one) and a new one starts.
	DecisionLogMaxBytes int64 `toml:"decision_log_max_bytes"`
	// RuntimeKind is "runc" or "crun"; empty means: crun if the runtime's
	// file name starts with "crun". sysgate hands crun the compiled filter
	// (AnnotationCrunBPF), so crun neither compiles it again nor loads a
	// filter without sysgate's ENOSYS stub.
	RuntimeKind string `toml:"runtime_kind"`
	// CacheDir holds compiled filters, so that each profile is compiled once
	// per node rather than once per container; empty disables the cache.
	CacheDir string `toml:"cache_dir"`
	// AllowRestore lets `restore` through to the runtime. A checkpoint
	// brings back the seccomp state its image holds, not the filter this
	// policy decides, and images can be imported from elsewhere; so restore
	// is refused unless the operator allows it.
	AllowRestore bool `toml:"allow_restore"`
	// RecordNamespaces are namespaces whose containers may be recorded
	// (AnnotationRecord); anywhere else the annotation is refused.
	RecordNamespaces []string `toml:"record_namespaces"`
	// RecordDir holds recordings/<namespace>/<pod>/<container>.json.
	RecordDir string `toml:"record_dir"`
	// RecordSocket is where `sysgate helper` takes recording requests
	// (start from sysgate-runc, stop from `sysgate record stop`).
	RecordSocket string `toml:"record_socket"`

	// NRIRuntimeHandlers scopes `sysgate nri` to Pods of these runtime
	// handlers (the CRI's names, e.g. "runc"); empty: every Pod.
	NRIRuntimeHandlers []string `toml:"nri_runtime_handlers"`
	// NRIUnconfinedIsExplicit: a CRI Unconfined profile type is the Pod's
	// own request (the kubelet runs with --seccomp-default, so it sends
	// Unconfined only when asked). Without it the plugin treats Unconfined
	// as "unspecified", because a kubelet without --seccomp-default sends
	// Unconfined for Pods that say nothing.
	NRIUnconfinedIsExplicit bool `toml:"nri_unconfined_is_explicit"`
	// NRICrunHandlers are runtime handlers whose runtime is crun: the
	// plugin hands crun its compiled program there.
	NRICrunHandlers []string `toml:"nri_crun_handlers"`
	// NRIRequired makes sysgate-runc (and the sysgate shim) refuse every
	// container but a Pod sandbox whose bundle carries no record of the
	// NRI plugin's decision: the fail-closed companion of plugin mode,
	// since containerd creates a container without a plugin that is not
	// running, crashed or timed out.
	NRIRequired bool `toml:"nri_required"`

	// Path is the file the policy came from; empty for the defaults.
	Path string `toml:"-"`
	// HostBoundingSet is the capability bounding set of the process that
	// runs the container, which a privileged container's capabilities are
	// measured against; not read from the file. 0 means the deciding
	// process's own (/proc/self/status), right for sysgate-runc, which execs
	// the runtime; the create helper sets its client's.
	HostBoundingSet uint64 `toml:"-"`
}

// DefaultPolicy is the policy of a node without a policy file.
func DefaultPolicy() Policy {
	return Policy{
		Runtime:     "/usr/sbin/runc",
		ProfileRoot: "/var/lib/kubelet/seccomp",
		Default:     "runtime/default",
		Privileged:  "unconfined",
		Unconfined:  UnconfinedAllow,
		CacheDir:    "/var/cache/sysgate/bpf",

		DecisionLogMaxBytes: 64 << 20,
		LogDenials:          true,
		DenialLog:           "/var/log/sysgate/denials.jsonl",
		DenialLogMaxBytes:   64 << 20,
		RecordDir:           "/var/lib/sysgate",
		RecordSocket:        "/run/sysgate/record.sock",
	}
}

// PolicyPath is the policy file to read: $SYSGATE_CONFIG or the default.
func PolicyPath() string {
	if p := os.Getenv(PolicyPathEnv); p != "" {
		return p
	}
	return DefaultPolicyPath
}

// LoadPolicy reads and checks a policy file. A missing file means the
// defaults; a file that exists but cannot be read or is invalid is an
// error, so that a typo never silently weakens the node.
func LoadPolicy(path string) (Policy, error) {
	p := DefaultPolicy()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, p.CheckTrusted()
	}
	if err != nil {
		return p, fmt.Errorf("policy %s: %w", path, err)
	}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var strict *toml.StrictMissingError
		var decodeErr *toml.DecodeError
		switch {
		case errors.As(err, &strict) && len(strict.Errors) > 0:
			// strict.String() is a multi-line source excerpt; name the
			// keys on one line, placed like the other errors.
			keys := make([]string, len(strict.Errors))
			for i, e := range strict.Errors {
				keys[i] = strconv.Quote(strings.Join(e.Key(), "."))
			}
			row, col := strict.Errors[0].Position()
			return p, fmt.Errorf("policy %s:%d:%d: unknown key %s; known keys are runtime, profile_root, default, runtime_default, privileged, unconfined, exempt_namespaces, audit, audit_namespaces, audit_opt_in_namespaces, log_denials, denials, denial_log, denial_log_max_bytes, metrics_listen, decision_log, decision_log_max_bytes, cache_dir, runtime_kind, allow_restore, nri_runtime_handlers, nri_unconfined_is_explicit, nri_crun_handlers, nri_required, record_namespaces, record_dir, record_socket", path, row, col, strings.Join(keys, ", "))
		case errors.As(err, &decodeErr):
			row, col := decodeErr.Position()
			return p, fmt.Errorf("policy %s:%d:%d: %s", path, row, col, decodeErr.Error())
		}
		return p, fmt.Errorf("policy %s: %w", path, err)
	}
	p.Path = path
	if err := p.check(); err != nil {
		return p, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, p.CheckTrusted()
}

// CheckTrusted refuses a policy whose file, profile root or cache anyone
// but root may change: they decide every container's filter.
func (p Policy) CheckTrusted() error {
	for _, c := range []struct{ path, key string }{
		{p.Path, "policy file"}, {p.ProfileRoot, "profile_root"}, {p.CacheDir, "cache_dir"}, {p.recordDirIfUsed(), "record_dir"},
	} {
		if c.path == "" {
			continue
		}
		if err := CheckTrustedPath(c.path, c.key); err != nil {
			if c.key != "policy file" {
				err = fmt.Errorf("policy %s: %w", policyName(p), err)
			}
			return err
		}
	}
	return nil
}

func (p Policy) check() error {
	if p.Runtime == "" {
		return errors.New("runtime: must name the real OCI runtime, e.g. /usr/sbin/runc")
	}
	if !filepath.IsAbs(p.ProfileRoot) {
		return fmt.Errorf("profile_root: %q must be an absolute directory", p.ProfileRoot)
	}
	for key, value := range map[string]string{"default": p.Default, "privileged": p.Privileged} {
		if _, err := profile.ParseRef(value); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	if p.DecisionLogMaxBytes < 4096 {
		return fmt.Errorf("decision_log_max_bytes: %d is too small; give at least 4096 (the default is %d)", p.DecisionLogMaxBytes, DefaultPolicy().DecisionLogMaxBytes)
	}
	if p.DenialLogMaxBytes < 4096 {
		return fmt.Errorf("denial_log_max_bytes: %d is too small; give at least 4096 (the default is %d)", p.DenialLogMaxBytes, DefaultPolicy().DenialLogMaxBytes)
	}
	if p.Denials && !filepath.IsAbs(p.DenialLog) {
		return fmt.Errorf("denial_log: %q must be an absolute file path when denials = true", p.DenialLog)
	}
	if p.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(p.MetricsListen); err != nil {
			return fmt.Errorf("metrics_listen: %q must be host:port, e.g. 127.0.0.1:9795 (or empty for no metrics): %v", p.MetricsListen, err)
		}
	}
	if len(p.RecordNamespaces) > 0 && (!filepath.IsAbs(p.RecordDir) || !filepath.IsAbs(p.RecordSocket)) {
		return fmt.Errorf("record_dir (%q) and record_socket (%q) must be absolute paths when record_namespaces lists namespaces", p.RecordDir, p.RecordSocket)
	}
	for key, list := range map[string][]string{"audit_namespaces": p.AuditNamespaces, "audit_opt_in_namespaces": p.AuditOptInNamespaces, "record_namespaces": p.RecordNamespaces} {
		if slices.Contains(list, "") {
			return fmt.Errorf("%s: an empty name would match containers with no Pod namespace; list real namespaces", key)
		}
	}
	if p.CacheDir != "" && !filepath.IsAbs(p.CacheDir) {
		return fmt.Errorf("cache_dir: %q must be an absolute directory (or empty to disable the cache)", p.CacheDir)
	}
	if p.NRIRequired && p.CacheDir == "" {
		return errors.New("nri_required: the NRI plugin's decisions are signed with the node's record key, which lives in cache_dir; set cache_dir (an empty one disables the cache and the key)")
	}
	if p.RuntimeDefault != "" && !filepath.IsAbs(p.RuntimeDefault) {
		return fmt.Errorf("runtime_default: %q must be an absolute path to a profile file", p.RuntimeDefault)
	}
	switch p.RuntimeKind {
	case "", "runc", "crun":
	default:
		return fmt.Errorf("runtime_kind: %q must be runc or crun (or absent: guessed from the runtime's name)", p.RuntimeKind)
	}
	switch p.Unconfined {
	case UnconfinedAllow, UnconfinedDeny, UnconfinedAudit:
	default:
		return fmt.Errorf("unconfined: %q must be allow, deny or audit", p.Unconfined)
	}
	return nil
}

// HandsOverBPF reports whether the real runtime takes sysgate's compiled
// filter.
func (p Policy) HandsOverBPF() bool {
	if p.RuntimeKind != "" {
		return p.RuntimeKind == "crun"
	}
	return strings.HasPrefix(filepath.Base(p.Runtime), "crun")
}

// Cache is the policy's compiled-filter cache; nil when disabled.
func (p Policy) Cache() *filter.Cache {
	if p.CacheDir == "" {
		return nil
	}
	return &filter.Cache{Dir: p.CacheDir, Salt: cacheSalt()}
}

// validatorVersion changes whenever Validate may judge a profile
// differently.
const validatorVersion = "1"

// cacheSalt ties cached programs to the validator that passed them: a hit
// skips validation (Decision.Verify), so an entry stored by another
// validator, or another build of sysgate, must not be one.
var cacheSalt = sync.OnceValue(func() string {
	salt := "validator " + validatorVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
				salt += " " + s.Key + "=" + s.Value
			}
		}
	}
	return salt
})

// Exempt reports whether a namespace may run unconfined under "deny".
func (p Policy) Exempt(namespace string) bool {
	for _, ns := range p.ExemptNamespaces {
		if ns == namespace && ns != "" {
			return true
		}
	}
	return false
}

// auditsNamespace reports whether the policy puts a namespace in audit
// mode, and optIn whether its containers may ask for it by annotation.
func (p Policy) auditsNamespace(namespace string) (audit, optIn bool) {
	if namespace == "" {
		return false, false
	}
	return slices.Contains(p.AuditNamespaces, namespace), slices.Contains(p.AuditOptInNamespaces, namespace)
}

// RuntimeOnly reads just the runtime key. The wrapper's passthrough commands
// (state, kill, delete: called many times per container) need only that, and
// must not pay for checking the whole policy.
func RuntimeOnly(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultPolicy().Runtime, nil
	}
	if err != nil {
		return "", fmt.Errorf("policy %s: %w", path, err)
	}
	// It names the binary every runtime command runs as root.
	if err := CheckTrustedPath(path, "policy file"); err != nil {
		return "", err
	}
	var p struct {
		Runtime string `toml:"runtime"`
	}
	if err := toml.Unmarshal(data, &p); err != nil {
		return "", fmt.Errorf("policy %s: %w", path, err)
	}
	if p.Runtime == "" {
		return DefaultPolicy().Runtime, nil
	}
	return p.Runtime, nil
}

// recordDirIfUsed is RecordDir when recordings may happen: the helper
// writes profiles there as root, so nobody else may plant links in it.
func (p Policy) recordDirIfUsed() string {
	if len(p.RecordNamespaces) == 0 {
		return ""
	}
	return p.RecordDir
}
