# Shared by the scripts that run kea-dhcp6.  Source it.
# kea_stderr FILE: what a failing test shows of kea-dhcp6's stderr.  Under a
# preloaded sanitizer runtime (tests/run) the report is longer than any tail
# and starts with the line that names the error, so show it from there;
# otherwise the last 20 lines.
kea_stderr() {
    [ -s "$1" ] || return 0
    grep -A14 -m1 "ERROR: AddressSanitizer\|runtime error" "$1" || tail -20 "$1"
}
