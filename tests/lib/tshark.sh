# tsh: tshark on a finished capture file, bounded.  Sourced by tests/lib/dp.sh
# and by the scripts that read captures without it:
#   . "$top/tests/lib/tshark.sh"
#
# tsh ARGS...: tshark reading a finished capture, TCP not dissected, its
# output printed only once it has ended.  TCP analysis of a long transfer
# that moved between links can take tshark minutes (measured on one such
# 18 MB capture: not done after 2 x 120 s with TCP, 1.3 s without; the tests read only
# the layers below TCP), and a run is still stopped after TSH_TIMEOUT seconds
# (default 120) and tried once more, so a slow tshark costs minutes, not the
# suite.  tshark's messages are shown only when it fails (a capture cut
# short: exit 2, the packets before the cut still printed).  Temporary files
# go in $work when the script has one, else in $TMPDIR.
# A check that needs TCP itself ("tcp" filters, tcp.* fields) cannot use tsh:
# it runs tshark under `timeout` and says why in a comment.
tsh() {
    local out err rc i
    out=$(mktemp "${work:-${TMPDIR:-/tmp}}/tshark.XXXXXX")
    err=$(mktemp "${work:-${TMPDIR:-/tmp}}/tshark.XXXXXX")
    for i in 1 2; do
        # "|| rc=": under set -e a failing tshark (exit 2 on a capture cut
        # short) would otherwise end a pipeline's subshell before the output
        rc=0
        timeout "${TSH_TIMEOUT:-120}" tshark --disable-protocol tcp "$@" > "$out" 2> "$err" || rc=$?
        [ "$rc" = 124 ] || break
        echo "tshark $* timed out after ${TSH_TIMEOUT:-120} s (try $i)" >&2
    done
    # a run stopped half way prints nothing: a partial count is no answer
    [ "$rc" = 124 ] || cat "$out"
    [ "$rc" = 0 ] || [ "$rc" = 124 ] || grep -v '^Running as user' "$err" >&2 || true
    rm -f "$out" "$err"
    return "$rc"
}
