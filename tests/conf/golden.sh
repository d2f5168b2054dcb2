#!/bin/bash
# Golden config tests: every good/*.conf must pass `pshim6-control -nv` and
# print exactly good/<name>.nv (its normal form), and that normal form must
# load back to itself; every bad/*.conf must fail `-n` with exactly the
# messages in bad/<name>.err.  Runs from inside each folder so the file names
# in messages are stable.
#   usage: golden.sh PSHIM6_CONTROL_BINARY [EXAMPLE_CONF]
set -u
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
fail=0 n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check_good() { # dir file expected
    local dir=$1 f=$2 exp=$3
    n=$((n + 1))
    if ! (cd "$dir" && "$bin" -nv -c "$f") >"$tmp/out" 2>"$tmp/err"; then
        echo "FAIL $f: rejected:"; cat "$tmp/err"; fail=1; return
    fi
    if ! diff -u "$exp" "$tmp/out"; then echo "FAIL $f: normal form differs"; fail=1; return; fi
    # the normal form is a fixed point
    cp "$tmp/out" "$tmp/nf.conf"
    if ! (cd "$tmp" && "$bin" -nv -c nf.conf) >"$tmp/out2" 2>"$tmp/err"; then
        echo "FAIL $f: normal form rejected:"; cat "$tmp/err"; fail=1; return
    fi
    if ! diff <(tail -n +2 "$tmp/out") <(tail -n +2 "$tmp/out2") >/dev/null; then
        echo "FAIL $f: normal form does not load back to itself"; fail=1; return
    fi
    echo "ok   $f"
}

for f in "$here"/good/*.conf; do
    b=$(basename "$f" .conf)
    check_good "$here/good" "$b.conf" "$here/good/$b.nv"
done
if [ -n "${2:-}" ]; then
    check_good "$(dirname "$(realpath "$2")")" "$(basename "$2")" "$here/good/example.nv"
fi

for f in "$here"/bad/*.conf; do
    b=$(basename "$f" .conf)
    n=$((n + 1))
    if (cd "$here/bad" && "$bin" -n -c "$b.conf") >"$tmp/out" 2>"$tmp/err"; then
        echo "FAIL $b.conf: accepted"; fail=1; continue
    fi
    if ! diff -u "$here/bad/$b.err" "$tmp/err"; then echo "FAIL $b.conf: messages differ"; fail=1; continue; fi
    echo "ok   $b.conf"
done
echo "$n golden files checked"
exit $fail
