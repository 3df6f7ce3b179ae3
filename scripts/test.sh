#!/usr/bin/env bash
# The whole test suite: linters, type checks, Ansible sanity, unit, conformance,
# integration (real network namespaces, needs root) and molecule tests.
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

step() { printf '\n=== %s\n' "$*"; }

step "ruff"
ruff check .
ruff format --check .
step "mypy"
mypy vnfm_runner collections/ansible_collections/nfv/vnfm/plugins/module_utils
step "yamllint"
yamllint -s .
step "ansible-lint (production profile)"
ansible-lint --profile production -q
step "ansible-test sanity"
(cd collections/ansible_collections/nfv/vnfm && ansible-test sanity --venv --python 3.11 --color no)
step "collection build"
build_dir=$(mktemp -d)
ansible-galaxy collection build collections/ansible_collections/nfv/vnfm --output-path "$build_dir" --force
ansible-galaxy collection install "$build_dir"/nfv-vnfm-*.tar.gz -p "$build_dir/installed" --force >/dev/null
test -f "$build_dir/installed/ansible_collections/nfv/vnfm/plugins/modules/vnf_resources.py"
rm -rf "$build_dir"
step "molecule"
(cd collections/ansible_collections/nfv/vnfm/extensions && molecule test --all) || (cd . && molecule test --all)
step "pytest"
pytest -q -p no:cacheprovider "$@"
