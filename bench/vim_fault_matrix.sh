#!/bin/sh
# Every fault kind (error, hang, reset, reset after headers, slow; the first four also after
# forwarding the call) at every call site (server/port/volume create, server/port listing) of
# an instantiation on the OpenStack test bed, through tests/openstack/fault_proxy.py: each
# ends COMPLETED or FAILED_TEMP, the retry converges with nothing leaked or duplicated, and
# terminate leaves nothing. 45 cases, about 1-2 minutes each on a 2-core machine.
#   sudo scripts/openstack-testbed up && bench/vim_fault_matrix.sh [pytest args, e.g. -k hang]
set -eu
cd "$(dirname "$0")/.."
export ANSIBLE_COLLECTIONS_PATH="$PWD/collections" VNFM_FAULT_MATRIX=full
exec .venv/bin/pytest -q -p no:cacheprovider -s -W ignore::DeprecationWarning \
    tests/openstack/test_vim_faults.py -k test_instantiate_fault_then_retry "$@"
