// Package node finds the containers running on this node from the
// kernel's side and reads the seccomp filters the kernel holds for their
// processes. Its one job is to say what is there, not what should be:
// processes are grouped into containers by cgroup (containerd's, CRI-O's,
// podman's, Docker's and the kubelet's layouts, cgroup v1 and v2) or, for a
// runtime that made no cgroup of its own, by PID namespace; each
// process's seccomp mode and filter count come from /proc/PID/status, and
// the filters themselves from ptrace(PTRACE_SECCOMP_GET_FILTER).
//
// Everything here is read from the kernel or from files only root on the
// host can write; nothing a process inside a container can change (its
// command line, environment, hostname or files) names or identifies a
// container. It imports only filter/bpf of sysgate's packages: package
// verify joins what it finds with sysgate's decisions.
package node
