#!/bin/sh
# Build and run the libFuzzer targets: fuzz/fuzz_request.c (the control protocol's request
# parser) and, when it exists, fuzz/fuzz_config.c (the configuration parser).
#
#   FUZZ_SECONDS=60 fuzz/run.sh [request|config ...]
#
# Each target runs FUZZ_SECONDS (default 60) on a work corpus under build/fuzz/<name>/corpus,
# seeded from fuzz/corpus/<name>/ (the seeds are never modified).  Exit status: 0 when no target
# crashed, 1 when one did (its crash-* file is under build/fuzz/<name>/), 2 on a build error.
set -eu

cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CLANG=${CLANG:-clang}
OUT=build/fuzz
PKGS="jansson libsystemd inih libevent"
CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
        -fno-sanitize-recover=all -D_GNU_SOURCE -DCUTOVER_VERSION=\"fuzz\" -Ilib -Idaemon
        $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lm"

# Each target's translation units, kept explicit and minimal: only what its parser calls.
SRC_request="fuzz/fuzz_request.c lib/proto.c lib/cmdtab.c lib/util.c"
SRC_config="fuzz/fuzz_config.c daemon/config.c daemon/config_check.c daemon/config_keys.c
            daemon/config_keys_set.c daemon/config_lex.c daemon/config_value.c daemon/job_command.c lib/log.c
            lib/util.c"

targets=${*:-request config}
mkdir -p "$OUT"

# Tokens of the request grammar, so the fuzzer reaches past the JSON syntax quickly.
cat > "$OUT/request.dict" <<'DICT'
"\"id\""
"\"cmd\""
"\"args\""
"\"cluster\""
"\"version\""
"\"status\""
"\"topology\""
"\"config\""
"\"reload\""
"\"events\""
"\"switchover\""
"\"abort\""
"\"pause\""
"\"resume\""
"\"resolve\""
"\"history\""
"\"to\""
"\"dry_run\""
"\"max_lag_ms\""
"\"limit\""
"null"
"true"
"false"
"{}"
"[]"
"\\u0000"
"\\ud800"
DICT

status=0
for t in $targets; do
	eval src=\$SRC_$t
	main=${src%% *}
	if [ ! -f "$main" ]; then
		echo "fuzz[$t]: $main does not exist; skipped"
		continue
	fi
	dir=$OUT/$t
	mkdir -p "$dir/corpus"
	echo "fuzz[$t]: building $dir/fuzz_$t"
	# shellcheck disable=SC2086
	if ! $CLANG $CFLAGS -o "$dir/fuzz_$t" $src $LIBS; then
		echo "fuzz[$t]: build failed" >&2
		exit 2
	fi
	if [ -d "fuzz/corpus/$t" ]; then
		cp -n fuzz/corpus/"$t"/* "$dir/corpus/" 2>/dev/null || true
	fi
	dict=
	[ -f "$OUT/$t.dict" ] && dict="-dict=$PWD/$OUT/$t.dict"
	rm -f "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*
	echo "fuzz[$t]: running for ${FUZZ_SECONDS}s"
	# shellcheck disable=SC2086
	(cd "$dir" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		./fuzz_$t -max_total_time="$FUZZ_SECONDS" -max_len=70000 -timeout=10 -print_final_stats=1 \
		-artifact_prefix=./ $dict corpus) > "$dir/fuzz.log" 2>&1 || true
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$dir/fuzz.log" | tail -n 1)
	crashes=$(find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) | wc -l)
	if [ "$crashes" -gt 0 ]; then
		echo "fuzz[$t]: ${runs:-?} executions, $crashes CRASH FILE(S) in $dir (log: $dir/fuzz.log):"
		find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \)
		status=1
	elif ! grep -q '^Done [0-9]* runs' "$dir/fuzz.log"; then
		echo "fuzz[$t]: the fuzzer did not finish normally; see $dir/fuzz.log" >&2
		tail -n 20 "$dir/fuzz.log" >&2
		status=1
	else
		echo "fuzz[$t]: ${runs:-?} executions in ${FUZZ_SECONDS}s, no crashes (corpus: $(ls "$dir/corpus" | wc -l) inputs)"
	fi
done
exit $status
