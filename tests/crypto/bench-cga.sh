#!/bin/bash
# CGA signature sign/verify rates (RSA-2048, RSASSA-PKCS1-v1_5/SHA-1 over a
# 3-locator list) next to `openssl speed rsa2048` measured in the same run,
# interleaved round by round; plus CGA address and HBA verification rates and
# the Hash2 search rate that prices Sec.  Prints medians and ratios.
# Rates are per CPU-second on both sides (openssl speed counts user CPU
# time), so a busy machine skews neither against the other.
#   BUILD=<build dir> ROUNDS=5 SECONDS_PER=0.5 tests/crypto/bench-cga.sh
# (openssl speed runs whole seconds: max(1, SECONDS_PER) each round.)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
ROUNDS=${ROUNDS:-5}
SECS=${SECONDS_PER:-0.5}
OSECS=$(awk -v s="$SECS" 'BEGIN{s=int(s+0.5); print (s<1?1:s)}')
bench=$BUILD/tests/crypto/bench_cga
[ -x "$bench" ] || { echo "bench-cga: $bench not built" >&2; exit 1; }
command -v openssl >/dev/null || { echo "bench-cga: openssl not installed" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for r in $(seq "$ROUNDS"); do
    # openssl 3.0 prints: "rsa 2048 bits 0.000702s 0.000021s   1424.5  47619.0"
    openssl speed -seconds "$OSECS" rsa2048 2>/dev/null |
        awk '/^rsa +2048 bits/ {print "openssl_sign", $(NF-1); print "openssl_verify", $NF}' >>"$out"
    "$bench" "$SECS" >>"$out" || { echo "bench-cga: bench_cga failed" >&2; exit 1; }
done

median() { awk -v m="$1" '$1==m {print $2}' "$out" | sort -g |
           awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b>0) printf "%.3f", a/b; else print "nan"}'; }

os=$(median openssl_sign); ov=$(median openssl_verify)
cs=$(median cga_sign); cv=$(median cga_verify_sig); cvk=$(median cga_verify_sig_key); cvc=$(median cga_verify_sig_coldkey)
ca=$(median cga_verify_addr); hv=$(median hba_verify); h2=$(median hash2_tries)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "bench-cga: $ROUNDS rounds (openssl ${OSECS}s, ours ${SECS}s CPU per figure), medians, $(openssl version | cut -d' ' -f1-2), $cpu"
printf '%-40s %12s /s\n' "openssl speed rsa2048 sign" "$os"
printf '%-40s %12s /s   ratio to openssl sign   %s\n' "CGA sign (locator list)" "$cs" "$(ratio "$cs" "$os")"
printf '%-40s %12s /s\n' "openssl speed rsa2048 verify" "$ov"
printf '%-40s %12s /s   ratio to openssl verify %s\n' "CGA verify_sig (PDS, key cache warm)" "$cv" "$(ratio "$cv" "$ov")"
printf '%-40s %12s /s   ratio to openssl verify %s\n' "CGA verify_sig (PDS, new key each time)" "$cvc" "$(ratio "$cvc" "$ov")"
printf '%-40s %12s /s   ratio to openssl verify %s\n' "CGA verify_sig_key (caller holds key)" "$cvk" "$(ratio "$cvk" "$ov")"
printf '%-40s %12s /s\n' "CGA address verify (Sec 1, hashes)" "$ca"
printf '%-40s %12s /s   ratio to CGA verify_sig %s\n' "HBA address verify (3-prefix set)" "$hv" "$(ratio "$hv" "$cv")"
printf '%-40s %12s /s   => Sec 1 ~%s ms, Sec 2 ~%s min per address\n' "Hash2 search (RSA-2048 key)" "$h2" \
    "$(awk -v h="$h2" 'BEGIN{printf "%.0f", 65536/h*1000}')" "$(awk -v h="$h2" 'BEGIN{printf "%.0f", 4294967296/h/60}')"
echo "RESULT: cga_sign=$cs/s openssl_sign=$os/s ratio=$(ratio "$cs" "$os") cga_verify=$cv/s openssl_verify=$ov/s ratio=$(ratio "$cv" "$ov") hba_verify=$hv/s"
