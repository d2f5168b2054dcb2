#!/bin/bash
# The exception path with two lcores: every TAP has one queue pair per lcore
# (the TAP PMD wants as many RX as TX queues), lcore 0 reads all of them.
# Same checks as e2e-dp-tap.sh.
LCORES=2 exec "$(dirname "$0")/e2e-dp-tap.sh"
