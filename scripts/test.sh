#!/usr/bin/env bash
# The whole test suite: linters, type checks, Ansible sanity, collection build,
# molecule, then pytest (unit, conformance, integration with real network
# namespaces). Needs root for the namespaces; re-runs itself with sudo.
#
# Every step runs even when an earlier one failed, so that one run shows every
# problem; the script fails when any step failed. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ "$(id -u)" -ne 0 ]; then
  echo "test: the integration tests create network namespaces; re-running with sudo"
  exec sudo -E "$0" "$@"
fi
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$PWD/collections"
export VNFM_HOME="${VNFM_HOME:-$(mktemp -d /tmp/vnfm-test-home.XXXXXX)}"
export PY_COLORS=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1

results=()
failed=0
total_start=$SECONDS

# step NAME COMMAND...: run one gate, time it, record its result.
step() {
  local name=$1
  shift
  printf '\n=== %s\n' "$name"
  local start=$SECONDS rc=0
  "$@" || rc=$?
  local took=$((SECONDS - start))
  if [ "$rc" -eq 0 ]; then
    results+=("$(printf '%-36s ok      %4ds' "$name" "$took")")
  else
    results+=("$(printf '%-36s FAILED  %4ds  (exit %d)' "$name" "$took" "$rc")")
    failed=1
  fi
  printf '=== %s: %s in %ds\n' "$name" "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" "$took"
}

ruff_all() {
  local rc=0
  ruff check . || rc=1
  ruff format --check . || rc=1
  return "$rc"
}

collection_build() {
  local build_dir rc=0
  build_dir=$(mktemp -d)
  check_collection_build "$build_dir" || rc=$?
  rm -rf "$build_dir"
  return "$rc"
}

check_collection_build() {
  local build_dir=$1 rc=0
  ansible-galaxy collection build collections/ansible_collections/nfv/vnfm \
    --output-path "$build_dir" --force || return 1
  local tarball=("$build_dir"/nfv-vnfm-*.tar.gz)
  # Nothing generated may ship: test output, caches, compiled Python, old tarballs.
  local junk
  junk=$(tar -tzf "${tarball[0]}" | grep -E '(^|/)(tests/output|__pycache__|\.[a-z_]*cache|\.ansible)(/|$)|\.py[co]$|\.tar\.gz$' || true)
  if [ -n "$junk" ]; then
    echo "collection build: the tarball contains generated files:"
    echo "$junk"
    rc=1
  fi
  ansible-galaxy collection install "${tarball[0]}" -p "$build_dir/installed" --force >/dev/null || return 1
  local installed="$build_dir/installed/ansible_collections/nfv/vnfm"
  for f in plugins/modules/vnf_resources.py plugins/connection/netns.py roles/instantiate/tasks/main.yml meta/runtime.yml; do
    if [ ! -f "$installed/$f" ]; then
      echo "collection build: $f missing from the installed collection"
      rc=1
    fi
  done
  return "$rc"
}

run_pytest() {
  local rc=0
  # Two workers, whole files each (module fixtures and ordered steps stay together):
  # the integration tests spend most of their time waiting on ansible-playbook.
  pytest -q -rs -p no:cacheprovider -n 2 --dist loadfile --ignore=tests/integration/test_wheel.py "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "pytest: no tests were collected"
  fi
  return "$rc"
}

step "ruff" ruff_all
step "mypy" mypy vnfm_runner collections/ansible_collections/nfv/vnfm/plugins/module_utils
step "yamllint" yamllint -s .
step "ansible-lint (production profile)" ansible-lint --profile production
step "ansible-test sanity" ./scripts/ansible-test-sanity.sh
step "collection build + install" collection_build
# The collection's own integration targets (tests/integration/targets/, check mode on the
# local VIM); its unit tests (tests/unit/plugins/) run with pytest below.
step "ansible-test integration" bash -c 'cd collections/ansible_collections/nfv/vnfm &&
  ansible-test integration --local --python 3.11 --color no'
# The wheel and the collection tarball, installed in a fresh virtualenv outside the
# checkout: its vnfm runs the demo (tests/integration/test_wheel.py; not rerun below).
step "wheel: build, install, demo" pytest -q -p no:cacheprovider tests/integration/test_wheel.py
# The real OpenStack control plane that the OpenStack scenario and tests use.
step "OpenStack test bed" ./scripts/openstack-testbed up
# The scenarios' shared configuration (found from the VCS root too; named for copies without .git).
step "molecule" molecule --base-config .config/molecule/config.yml test --all
# tests/store also runs on PostgreSQL (skipped without a server, failed if CI is set).
export VNFM_TEST_POSTGRES_URL="${VNFM_TEST_POSTGRES_URL:-$(./scripts/postgres.sh || true)}"
step "pytest" run_pytest "$@"

printf '\n=== summary (%ds in all)\n' "$((SECONDS - total_start))"
printf '%s\n' "${results[@]}"
if [ "$failed" -ne 0 ]; then
  echo "test: FAILED"
  exit 1
fi
echo "test: all steps passed"
