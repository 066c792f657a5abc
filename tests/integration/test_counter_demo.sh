#!/bin/sh
# test_counter_demo.sh - the headline demo as a test: it exits non-zero
# unless 600 calls across a kill -9 of the replica in use all returned the
# next total and the surviving replicas agree on 600.
exec bash "${PHX_SRCDIR:-.}/samples/counter/demo.sh"
