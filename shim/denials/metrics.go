package denials

import (
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the helper's Prometheus metrics. A nil *Metrics counts
// nothing, so callers need not check.
type Metrics struct {
	Registry *prometheus.Registry

	denials    *prometheus.CounterVec
	decisions  *prometheus.CounterVec
	refusals   *prometheus.CounterVec
	unconfined prometheus.Counter
	cache      *prometheus.CounterVec
	compile    prometheus.Histogram
	lost       prometheus.Gauge

	mu     sync.Mutex
	series map[string]bool // denial label sets handed out
}

// maxDenialSeries bounds sysgate_seccomp_denials_total's label sets: past
// it, new (namespace, pod, container) combinations are counted under
// "_other", so a node churning Pods cannot grow the scrape without end.
// syscall, abi and action are bounded by the kernel's tables.
const maxDenialSeries = 2000

// NewMetrics registers sysgate's metrics on a registry of their own.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), series: map[string]bool{}}
	m.denials = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sysgate_seccomp_denials_total",
		Help: "Seccomp denials (and audit-mode LOG outcomes) the collector attributed, by container, syscall, ABI and action. runc 1.1 reports only LOG and KILL outcomes.",
	}, []string{"namespace", "pod", "container", "syscall", "abi", "action"})
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sysgate_decisions_total",
		Help: "Profiles decided at create, by decision-table source and profile type.",
	}, []string{"source", "type"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sysgate_create_refusals_total",
		Help: "Creates refused, by reason (spec/refusal: bad-input, policy, invalid-profile, escaping-path; internal for faults).",
	}, []string{"reason"})
	// Created, not running: the helper sees creates, never deletes (they
	// pass straight to the runtime), so a count of running containers
	// would only grow. rate() of this counter is what it can say honestly.
	m.unconfined = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sysgate_unconfined_containers_created_total",
		Help: "Containers created unconfined (or with a profile that denies nothing) since the helper started.",
	})
	m.cache = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sysgate_filter_cache_total",
		Help: "Compiled-filter cache lookups at create, by result (hit, miss).",
	}, []string{"result"})
	m.compile = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "sysgate_create_plan_seconds",
		Help:    "Time to decide, validate and compile a container's profile at create.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	})
	m.lost = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sysgate_seccomp_records_lost",
		Help: "Seccomp records the collector knows it did not see (audit serial gaps and its own drops) since it started.",
	})
	m.Registry.MustRegister(m.denials, m.decisions, m.refusals, m.unconfined, m.cache, m.compile, m.lost)
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

func (m *Metrics) observe(d *Denial) {
	if m == nil {
		return
	}
	ns, pod, ctr := label(d.Namespace), label(d.Pod), label(d.Name)
	if d.Container == "" {
		ns, pod, ctr = "", "", "_unattributed"
	} else if ctr == "" {
		ctr = label(d.Container)
	}
	id := ns + "\x00" + pod + "\x00" + ctr
	m.mu.Lock()
	if !m.series[id] {
		if len(m.series) >= maxDenialSeries {
			ns, pod, ctr = "_other", "_other", "_other"
		} else {
			m.series[id] = true
		}
	}
	m.mu.Unlock()
	m.denials.WithLabelValues(ns, pod, ctr, label(d.Syscall), d.ABI, d.Action).Inc()
}

func (m *Metrics) setLost(l Lost) {
	if m != nil {
		m.lost.Set(float64(l.Total()))
	}
}

// Decided counts a create's decision.
func (m *Metrics) Decided(source, typ string, unconfined bool) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(label(source), label(typ)).Inc()
	if unconfined {
		m.unconfined.Inc()
	}
}

// Refused counts a refused create (reason from spec/refusal, or
// "internal").
func (m *Metrics) Refused(reason string) {
	if m != nil {
		m.refusals.WithLabelValues(label(reason)).Inc()
	}
}

// CacheLookup counts a compiled-filter cache lookup.
func (m *Metrics) CacheLookup(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.cache.WithLabelValues("hit").Inc()
	} else {
		m.cache.WithLabelValues("miss").Inc()
	}
}

// PlanSeconds records the time a create's plan took.
func (m *Metrics) PlanSeconds(s float64) {
	if m != nil {
		m.compile.Observe(s)
	}
}

// label keeps a label value printable and short: names come from Pod
// metadata and processes, and the exposition format escapes quotes and
// newlines but a scrape should not carry kilobytes of someone's choosing.
func label(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}
