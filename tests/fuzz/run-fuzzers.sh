#!/bin/sh
# Runs each libFuzzer target of tests/fuzz: first over its seed corpus
# (every seed must pass), then fuzzing for a bounded time. Any crash, leak,
# sanitizer report or broken rule fails the run; libFuzzer writes the input
# that did it next to the targets (<target>-crash-*, <target>-leak-*).
#
#   FUZZ_SECONDS   seconds of fuzzing per target (default 10)
#   FUZZ_RUNS      executions per target at most (default 5000000)
#   FUZZ_TARGETS   which targets (default: all of them)
#   FUZZ_BINDIR    where the fuzz_* programs are (default: tests/fuzz)
#   FUZZ_CORPUS    a folder to keep the inputs found in, one subfolder per
#                  target (default: a temporary folder, removed at the end)
#
# make check runs it with the defaults; a longer run:
#   FUZZ_SECONDS=600 FUZZ_CORPUS=fuzz-corpus tests/fuzz/run-fuzzers.sh
set -u

here=$(cd "$(dirname "$0")" && pwd)
bindir=${FUZZ_BINDIR:-tests/fuzz}
seconds=${FUZZ_SECONDS:-10}
runs=${FUZZ_RUNS:-5000000}
targets=${FUZZ_TARGETS:-body request config cluster auth webhook grid}

if [ -n "${FUZZ_CORPUS:-}" ]; then
    work=$FUZZ_CORPUS
    mkdir -p "$work" || exit 1
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/slotlock-fuzz.XXXXXX") || exit 1
    trap 'rm -rf "$work"' EXIT
fi

status=0
for target in $targets; do
    program=$bindir/fuzz_$target
    if [ ! -x "$program" ]; then
        echo "run-fuzzers: no $program; build it with make check" >&2
        exit 1
    fi
    mkdir -p "$work/$target" || exit 1
    echo "run-fuzzers: fuzz_$target for ${seconds}s"
    # New inputs go to the first folder; the seeds stay as they are.
    if "$program" -max_total_time="$seconds" -runs="$runs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -dict="$here/$target.dict" \
        -artifact_prefix="$bindir/$target-" \
        "$work/$target" "$here/corpus/$target" 2>&1
    then
        echo "run-fuzzers: fuzz_$target passed"
    else
        echo "run-fuzzers: fuzz_$target FAILED" >&2
        status=1
    fi
done
exit $status
