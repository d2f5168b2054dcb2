#!/bin/bash
# Drives pshim6-cga as a new operator would, from --help alone: keygen, gen,
# verify round trip, an HBA set, and bad input (one-line error, exit 2,
# never a crash).   Usage: test-cga-tool.sh PATH-TO-pshim6-cga
set -u
T=$(realpath "${1:?usage: $0 PATH-TO-pshim6-cga}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fails=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }

# 1. Help is reachable every way a user would try, and names each command.
"$T" --help >h.txt && grep -q 'keygen' h.txt && grep -q 'verify' h.txt && pass "--help" || fail "--help"
for c in keygen gen hba verify; do
    "$T" $c --help >h1.txt && "$T" help $c >h2.txt && cmp -s h1.txt h2.txt &&
        grep -q "^Usage: pshim6-cga $c" h1.txt && pass "$c --help" || fail "$c --help"
done
"$T" >/dev/null 2>&1; [ $? -eq 2 ] && pass "no command: exit 2" || fail "no command: exit 2"

# 2. What gen --help shows, in order: keygen, gen, verify.
"$T" keygen --bits 1024 --out site.pem --public-out site.pub >kg.txt && [ -s site.pem ] &&
    grep -q '^spki 30' kg.txt && [ "$(stat -c %a site.pem)" = 600 ] && pass "keygen" || fail "keygen"
"$T" gen --key site.pem --prefix 2001:db8:1:2::/64 --sec 1 >gen.txt || fail "gen"
addr=$(awk '$1=="address"{print $2}' gen.txt)
pds=$(awk '$1=="pds"{print $2}' gen.txt)
mod=$(awk '$1=="modifier"{print $2}' gen.txt)
case "$addr" in 2001:db8:1:2:*) pass "gen address $addr" ;; *) fail "gen address '$addr'" ;; esac
[ "$("$T" verify "$addr" "$pds")" = "valid cga" ] && pass "verify round trip" || fail "verify round trip"
echo "$pds" >pds.hex
"$T" verify -q "$addr" @pds.hex && pass "verify @FILE" || fail "verify @FILE"
"$T" verify -q "$addr" - <pds.hex && pass "verify stdin" || fail "verify stdin"
# The same modifier and the public key alone give the same address back.
a2=$("$T" gen --key site.pub --prefix 2001:db8:1:2:: --sec 1 --modifier "$mod" | awk '$1=="address"{print $2}')
[ "$a2" = "$addr" ] && pass "gen reproducible from --modifier" || fail "gen --modifier ($a2 != $addr)"
# A DER key works too; collision count changes the address.
"$T" keygen --bits 1024 --der --out site.der >/dev/null && "$T" gen --key site.der --prefix 2001:db8::/64 >d.txt &&
    pass "DER key" || fail "DER key"
a3=$("$T" gen --key site.pub --prefix 2001:db8:1:2:: --sec 1 --modifier "$mod" --collision-count 1 | awk '$1=="address"{print $2}')
[ -n "$a3" ] && [ "$a3" != "$addr" ] && pass "collision count" || fail "collision count"

# 3. Verification failures exit 1 with a reason.
other=$(echo "$addr" | sed 's/:[0-9a-f]*$/:1/')
"$T" verify "$other" "$pds" 2>err.txt; rc=$?
[ $rc -eq 1 ] && grep -q '^invalid: ' err.txt && pass "wrong address: exit 1" || fail "wrong address: exit 1 (got $rc)"
# the modifier's first nibble, changed to another value whatever it was
if [ "${pds:0:1}" = 0 ]; then bad="1${pds:1}"; else bad="0${pds:1}"; fi
"$T" verify -q "$addr" "$bad"; [ $? -eq 1 ] && pass "tampered PDS: exit 1" || fail "tampered PDS: exit 1"

# 4. HBA set: each address verifies, the set rejects a foreign prefix.
"$T" hba --pseudo-key --prefix 2001:db8:a::/64 --prefix 2001:db8:b::/64 2001:db8:c:: >hba.txt || fail "hba"
hpds=$(awk '$1=="pds"{print $2}' hba.txt)
n=0
for a in $(awk '$1=="address"{print $2}' hba.txt); do
    [ "$("$T" verify "$a" "$hpds")" = "valid hba" ] && n=$((n + 1))
done
[ $n -eq 3 ] && pass "hba: 3 addresses verify" || fail "hba: $n of 3 verify"
"$T" verify -q 2001:db8:d::1 "$hpds"; [ $? -eq 1 ] && pass "hba foreign prefix" || fail "hba foreign prefix"
"$T" hba --key site.pem --prefix 2001:db8:a::/64 --prefix 2001:db8:b::/64 | grep -q '^key real' &&
    pass "hba with key" || fail "hba with key"

# 5. Bad input: exit 2, exactly one line on stderr, no crash (exit >= 128).
bad_input() { # description, args...
    local d=$1; shift
    "$T" "$@" >out.txt 2>err.txt; local rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <err.txt)" -eq 1 ] && grep -q '^pshim6-cga: ' err.txt; then
        pass "bad input: $d"
    else
        fail "bad input: $d (exit $rc, stderr: $(head -c 200 err.txt))"
    fi
}
printf 'not a key\n' >junk.pem
head -c 300 /dev/urandom >random.der
bad_input "unknown command" frobnicate
bad_input "gen without key" gen --prefix 2001:db8::/64
bad_input "gen without prefix" gen --key site.pem
bad_input "prefix /48" gen --key site.pem --prefix 2001:db8::/48
bad_input "prefix not IPv6" gen --key site.pem --prefix 10.0.0.0
bad_input "prefix host bits" gen --key site.pem --prefix 2001:db8::1
bad_input "sec 3" gen --key site.pem --prefix 2001:db8::/64 --sec 3
bad_input "sec -1" gen --key site.pem --prefix 2001:db8::/64 --sec -1
bad_input "collision count 3" gen --key site.pem --prefix 2001:db8::/64 --collision-count 3
bad_input "short modifier" gen --key site.pem --prefix 2001:db8::/64 --modifier abcd
bad_input "modifier not hex" gen --key site.pem --prefix 2001:db8::/64 --modifier zz112233445566778899aabbccddeeff
bad_input "junk key" gen --key junk.pem --prefix 2001:db8::/64
bad_input "random DER key" gen --key random.der --prefix 2001:db8::/64
bad_input "empty key" gen --key /dev/null --prefix 2001:db8::/64
bad_input "extra argument" gen --key site.pem --prefix 2001:db8::/64 extra
bad_input "unknown option" gen --bogus
bad_input "keygen 512 bits" keygen --bits 512
bad_input "keygen der to stdout" keygen --der
bad_input "hba key and pseudo" hba --key site.pem --pseudo-key --prefix 2001:db8::/64
bad_input "hba no prefix" hba --pseudo-key
bad_input "hba duplicate prefix" hba --pseudo-key 2001:db8::/64 2001:db8::/64
bad_input "verify one arg" verify "$addr"
bad_input "verify bad address" verify 2001:db8::zz "$pds"
bad_input "verify odd hex" verify "$addr" abc
bad_input "verify non-hex" verify "$addr" "xyz$pds"
bad_input "verify truncated PDS" verify "$addr" "${pds:0:60}"
bad_input "verify huge PDS" verify "$addr" "$(head -c 3000 /dev/zero | tr '\0' 'a')"
bad_input "verify missing file" verify "$addr" @/nonexistent
bad_input "verify --cga --hba" verify --cga --hba "$addr" "$pds"
bad_input "help for no command" help nothing

echo "RESULT: $fails failures"
[ $fails -eq 0 ]
