#!/usr/bin/env bash
# Install what vnfm-toolkit needs on a fresh Debian/Ubuntu machine, idempotently:
# system packages (iproute2, python venv, git), a virtualenv in .venv with the
# project and its test tools. Re-running it is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_apt=()
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v ping >/dev/null 2>&1 || need_apt+=(iputils-ping)  # molecule verify pings the VNF
# the closed loop's monitoring stack, started by the VNFM itself (docs/assurance.md)
[ -x /usr/bin/prometheus ] || need_apt+=(prometheus)
[ -x /usr/bin/prometheus-alertmanager ] || need_apt+=(prometheus-alertmanager)
# edgefw's VNFCs filter traffic with nftables (iptables where only that is there)
[ -x /usr/sbin/nft ] || command -v iptables >/dev/null 2>&1 || need_apt+=(nftables)
# the podman VIM (containerised VNFCs, docs/cnf.md): runc, as crun refuses hybrid cgroups;
# busybox-static is the rootfs of the locally built images (no registry is reachable)
command -v podman >/dev/null 2>&1 || need_apt+=(podman)
[ -x /usr/sbin/runc ] || need_apt+=(runc)
[ -x /bin/busybox ] || need_apt+=(busybox-static)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} with apt-get"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.vnfm-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[test]"
  touch "$stamp"
fi
# A checkout imports the collection (ansible_collections.nfv.vnfm) from collections/: the
# virtualenv names it in a .pth file (an installed wheel carries the collection itself).
purelib=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$PWD/collections" > "$purelib/vnfm-toolkit-checkout.pth"
# the image of the sample CNF (examples/packages/webfarm-cnf), built here: no registry is
# reachable; a no-op when it is up to date
if command -v podman >/dev/null 2>&1; then
  scripts/build-cnf-image.sh
fi
