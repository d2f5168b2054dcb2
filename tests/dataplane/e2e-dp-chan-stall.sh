#!/bin/bash
# The channel thread is the tables' only writer, and it answers every
# request on the client's own socket.  A client that leaves its answers
# unread (here `pshim6-dpctl dump` of 20,000 contexts into a pipe nobody
# reads) must not stop the other clients' requests: the channel waits for
# no client but control, keeps the unread client's next answer and resumes
# its dump as it reads, and after 2 s in which it took nothing it drops it,
# counts it and logs it.  Pass:
#  - while the stalled dump sits there, another client's COUNTERS and a
#    context write are each answered within 1 s (the sleeper holds the reader for 30 s);
#  - channel_client_stalled is 1 and the log names the drop;
#  - the write took effect (the context is in a fresh dump).
# At first the thread blocked in send() until the reader went away; then it
# gave each answer 2 s, so other clients waited that long at least.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/dp.sh"
dp_init dpcs
ns_add p1
N=20000

cat > "$work/dp.conf" <<EOF2
site = { name = "stall"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_null0,no-rx=1"; name = "in"; mtu = 1500; address = "fd00:1:1:ffff::1/64";
  next_hop = "fd00:1:1:ffff::2"; next_hop_mac = "02:00:00:00:00:09"; };
isps = ( { name = "x"; pa_prefix = "2001:db8:10:1::/64"; port = "net_null1,no-rx=1"; address = "2001:db8:10:ffff::2/64";
  next_hop = "2001:db8:10:ffff::1"; next_hop_mac = "02:00:00:00:00:0a"; mtu = 1500; weight = 1; } );
engine = { max_contexts = $((N + 16)); };
dataplane = { channel = "$work/dp.sock"; max_contexts = $((N + 16)); hba_hosts = 16; punt_queue = 64;
  idle_polls = 100; idle_sleep_us = 200;
  eal_args = [ "--file-prefix=dpcs-$$", "--huge-unlink", "--no-pci", "-l", "0", "-m", "256", "--log-level=lib.eal:error" ]; };
EOF2
dp_start p1 "$work/dp.conf" "$work/dp.log" --no-tap
dp_wait "$work/dp.sock" "$work/dp.log"
C fill count=$N >/dev/null || bad "fill $N"

# the stalled reader: dpctl blocks writing to a pipe that is never read, so
# it stops reading the channel; the sleeper holds the pipe open
mkfifo "$work/pipe"
sleep 30 < "$work/pipe" & sleeper=$!
C dump what=contexts > "$work/pipe" 2>/dev/null & dumper=$!
sleep 0.5
t1=$(date +%s%N)
timeout 10 "$CTL" -s "$DP_SOCK" counters > "$work/counters" || bad "COUNTERS not answered within 10 s while a client stalls"
t2=$(date +%s%N)
timeout 10 "$CTL" -s "$DP_SOCK" add otag=0x7fff00 ptag=0x7fff01 lulid=fd00:1:1:1::ab:1 rulid=fd00:2:2:1::ab:1 \
    lloc=2001:db8:10:1::ab:1 rloc=2001:db8:30:1::ab:1 isp=0 >/dev/null || bad "CTX_ADD not answered within 10 s"
t3=$(date +%s%N)
[ $(( (t2 - t1) / 1000000 )) -lt 1000 ] || bad "COUNTERS took $(( (t2 - t1) / 1000000 )) ms while a client stalls"
[ $(( (t3 - t2) / 1000000 )) -lt 1000 ] || bad "CTX_ADD took $(( (t3 - t2) / 1000000 )) ms while a client stalls"
ns_wait_for 5 sh -c "'$CTL' -s '$DP_SOCK' counters | grep -q '^channel_client_stalled 1$'" || bad "channel_client_stalled is not 1"
grep -q "left its answers unread for 2000 ms; dropped" "$work/dp.log" || bad "no log line for the dropped client"
kill $sleeper 2>/dev/null || true
wait $dumper 2>/dev/null || true
wait $sleeper 2>/dev/null || true
C dump what=contexts | grep -q "otag=0x7fff00" || bad "the write made while a client stalled is not in the table"
n=$(C dump what=contexts | grep -c "otag=")
[ "$n" = $((N + 1)) ] || bad "dump holds $n contexts, want $((N + 1))"
result "a client that stops reading a dump of $N contexts: COUNTERS answered in $(( (t2 - t1) / 1000000 )) ms," \
    "CTX_ADD in $(( (t3 - t2) / 1000000 )) ms; stalled client dropped and counted; $(( $(date +%s) - t0 ))s"
exit $fail
