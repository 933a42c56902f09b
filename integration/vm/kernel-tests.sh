#!/bin/sh
# kernel-tests.sh DIR: the kernel-level tests every VM tier runs, from the
# static payload in DIR, on whatever kernel this is: the qemu guests' init,
# the host column of the matrix and the Vagrant guests all call this one
# script. It prints `go test -v` output; the exit status is non-zero if
# any binary failed.
d=${1:?usage: kernel-tests.sh PAYLOAD-DIR}
export SYSGATE_PROBE="$d/sysgate-probe" SYSGATE_PROBE32="$d/mkdir32"
"$d/filter.test" -test.v -test.count=1 -test.run '^TestKernel' -test.timeout=10m 2>&1
filter_rc=$?
# The probe's own tests, i386 included. TestBuild compiles the probe, and
# guests have no compiler; the host's make test runs it.
"$d/probe.test" -test.v -test.count=1 -test.skip '^TestBuild$' -test.timeout=5m 2>&1
probe_rc=$?
# The denial collector's kernel test: an i386 mkdir under a filter is
# recorded, and named, as i386.
"$d/denials.test" -test.v -test.count=1 -test.run '^TestKernel' -test.timeout=5m 2>&1
denials_rc=$?
[ "$filter_rc" -eq 0 ] && [ "$probe_rc" -eq 0 ] && [ "$denials_rc" -eq 0 ]
