#!/bin/bash
# Writes every encoded Shim6 message type into a pcap (Ethernet, IPv6, Next
# Header 140) with the wire_pcap program given as $1, then checks with
# tshark that each frame decodes as Shim6 with the expected message type,
# P bit and a correct checksum, and that the payload extension header shows
# its context tag.  Only those fields are compared: Debian's tshark 4.0
# reads the type-specific fields one octet off (see docs/wire.md), so field
# values are checked by the unit suite instead.
# Exit 0 pass, 1 fail, 77 skip (no tshark).
set -u
writer=${1:?usage: check-tshark.sh PATH/TO/wire_pcap}
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# tsh: tshark bounded in time (these captures are a few frames: 30 s is ample)
work=$tmp TSH_TIMEOUT=30
. "$(dirname "$0")/../lib/tshark.sh"

"$writer" "$tmp/wire.pcap" >"$tmp/expect" || { echo "FAIL: $writer"; exit 1; }
tsh -n -r "$tmp/wire.pcap" -T fields -E separator=/t \
    -e frame.number -e shim6.p -e shim6.type -e shim6.checksum.status \
    >"$tmp/got" 2>"$tmp/err" || { echo "FAIL: tshark"; cat "$tmp/err"; exit 1; }

fail=0 n=0
while read -r frame type name; do
    n=$((n + 1))
    got=$(awk -F'\t' -v f="$frame" '$1 == f' "$tmp/got")
    IFS=$'\t' read -r _ p gtype status <<<"$got"
    if [ "$type" = payload ]; then
        tag=$(tsh -n -r "$tmp/wire.pcap" -V -Y "frame.number == $frame" 2>/dev/null |
              sed -n 's/.*Receiver Context Tag: //p' | tr -d ' ' | tr A-F a-f)
        if [ "$p" = 1 ] && [ "$tag" = "123456789abc" ]; then
            echo "ok   frame $frame payload header, P=1, $tag"
        else
            echo "FAIL frame $frame payload header: p='$p' tag='$tag'"; fail=1
        fi
        continue
    fi
    # shim6.checksum.status: 1 = Good.
    if [ "$p" = 0 ] && [ "$gtype" = "$type" ] && [ "$status" = 1 ]; then
        echo "ok   frame $frame type $type ($name) checksum good"
    else
        echo "FAIL frame $frame $name: p='$p' type='$gtype' (want $type) checksum status='$status'"
        fail=1
    fi
done <"$tmp/expect"

# Negative control: the same messages with one bit flipped must all show a
# bad checksum, or the check above proves nothing.
"$writer" --corrupt "$tmp/bad.pcap" >/dev/null || { echo "FAIL: $writer --corrupt"; exit 1; }
bad_ok=$(tsh -n -r "$tmp/bad.pcap" -T fields -e shim6.p -e shim6.checksum.status 2>/dev/null |
         awk -F'\t' '$1 == 0 && $2 != 1' | wc -l)
if [ "$bad_ok" -eq $((n - 1)) ]; then
    echo "ok   negative control: $bad_ok corrupted messages flagged with a bad checksum"
else
    echo "FAIL negative control: only $bad_ok of $((n - 1)) corrupted messages flagged"; fail=1
fi

frames=$(wc -l <"$tmp/got")
[ "$frames" -eq "$n" ] || { echo "FAIL: tshark saw $frames frames, wrote $n"; fail=1; }
echo "RESULT: $n frames checked with $(tshark --version 2>/dev/null | head -1 | awk '{print $1, $2, $3}'), $([ $fail = 0 ] && echo pass || echo FAIL)"
exit $fail
