#!/usr/bin/env bash
# Run `ansible-test sanity` on the nfv.vnfm collection, offline except for PyPI.
#
# `ansible-test sanity --venv` creates one virtualenv per test without pip and
# bootstraps pip into it with a `get-pip.py` script that it downloads from
# ci-files.testing.ansible.com (see ansible_test/_util/target/setup/requirements.py,
# bootstrap()). That host is not reachable from our machines or CI, only PyPI is.
# ansible-test first looks for the script in its cache,
# ~/.ansible/test/cache/get_pip_<pip version>.py, so we seed that file with a
# stand-in that bootstraps pip from the standard library (`ensurepip`) and then
# installs the pip version ansible-test pinned from PyPI. Everything else
# (the test requirements) comes from PyPI as usual.
#
# Usage: scripts/ansible-test-sanity.sh [extra ansible-test sanity options]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${VNFM_SANITY_PYTHON:-3.11}
ansible_test=${ANSIBLE_TEST:-$root/.venv/bin/ansible-test}
venv_python=$(dirname "$ansible_test")/python

# The pip version this ansible-test bootstraps (ansible_test._internal.python_requirements).
pip_version=$("$venv_python" - "$python" <<'PY'
import sys, types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version=sys.argv[1]))["pip"])
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
marker="# vnfm-toolkit: ensurepip stand-in for get-pip.py"
if [ ! -f "$cache" ] || grep -qF "$marker" "$cache"; then
  mkdir -p "$(dirname "$cache")"
  rm -f "$cache.download"
  cat > "$cache" <<PY
$marker
"""Bootstrap pip like get-pip.py: stdlib ensurepip, then the requested packages from PyPI.

ansible-test runs this as __main__ with get-pip.py's arguments, e.g.
  --disable-pip-version-check pip==$pip_version --no-setuptools --no-wheel
"""
import subprocess
import sys

args = sys.argv[1:]
no_setuptools = "--no-setuptools" in args
no_wheel = "--no-wheel" in args
args = [a for a in args if a not in ("--no-setuptools", "--no-wheel")]
pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call(pip + ["install"] + args)
if no_setuptools:
    # ensurepip (Python < 3.12) brings setuptools along; get-pip would not.
    subprocess.call(pip + ["uninstall", "-y", "setuptools"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if no_wheel:
    subprocess.call(pip + ["uninstall", "-y", "wheel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
PY
fi

cd "$root/collections/ansible_collections/nfv/vnfm"
exec "$ansible_test" sanity --venv --python "$python" --color no "$@"
