#!/bin/sh
# tree-state.sh: one line that changes when a tracked file's content or the
# set of untracked, unignored files changes. make test-all prints it before
# and after the tests: a test run writes its results under ignored _out/
# directories and must leave the work tree as it found it.
cd "$(dirname "$0")/.." || exit 1
git rev-parse --git-dir >/dev/null 2>&1 || { echo "not a git checkout"; exit 0; }
{ git diff HEAD --binary; git ls-files --others --exclude-standard; } | sha256sum
