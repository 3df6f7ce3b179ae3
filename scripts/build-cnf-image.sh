#!/usr/bin/env bash
# Build the image of the sample CNF (examples/packages/webfarm-cnf) locally:
# localhost/webfarm-cnf:1, a minimal rootfs imported with `podman import`.
#
#   scripts/build-cnf-image.sh            # build unless the same image is there
#   scripts/build-cnf-image.sh --force    # rebuild
#
# No registry is reachable here, so the image is made from this host: the host's
# python3 (Debian's /usr/bin/python3.11), the shared libraries it and its extension
# modules load (ldd), its standard library (without tests, IDLE, Tk, build config),
# busybox-static for a shell (the hooks reach the pods through `podman exec`), and
# webfarm's own software (web.py, lb.py) under /opt/webfarm. The inputs' digest is
# kept as a label, so a second run with the same inputs is a no-op (well under a second).
set -euo pipefail

IMAGE="${WEBFARM_CNF_IMAGE:-localhost/webfarm-cnf:1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SOFTWARE="$ROOT/examples/packages/webfarm/Files/software"
PY="${WEBFARM_CNF_PYTHON:-/usr/bin/python3}"
BUSYBOX="${WEBFARM_CNF_BUSYBOX:-/bin/busybox}"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

# Same podman settings as the podman VIM driver (runc, no default rlimits), unless
# the caller already chose a containers.conf.
if [ -z "${CONTAINERS_CONF:-}" ] && [ -f /var/lib/vnfm/podman-vim/containers.conf ]; then
    export CONTAINERS_CONF=/var/lib/vnfm/podman-vim/containers.conf
fi

die() { echo "build-cnf-image: $*" >&2; exit 1; }
command -v podman >/dev/null || die "podman is not installed (scripts/setup.sh installs it)"
[ -x "$PY" ] || die "no python3 at $PY to copy into the image (set WEBFARM_CNF_PYTHON)"
"$BUSYBOX" true 2>/dev/null || die "no busybox at $BUSYBOX (apt-get install busybox-static)"
file -L "$BUSYBOX" 2>/dev/null | grep -q "statically linked" ||
    ldd "$BUSYBOX" 2>&1 | grep -q "not a dynamic" || die "$BUSYBOX is not static (busybox-static)"

PYREAL="$(readlink -f "$PY")"
STDLIB="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
DYNLOAD="$STDLIB/lib-dynload"

digest="$(
    {
        cat "$0" "$SOFTWARE/web.py" "$SOFTWARE/lb.py"
        "$PY" -c 'import sys; print(sys.version)'
        "$BUSYBOX" 2>&1 | head -1
    } | sha256sum | cut -c1-32
)"
if [ "$FORCE" = 0 ]; then
    have="$(podman image inspect --format '{{ index .Labels "org.vnfm.inputs" }}' "$IMAGE" 2>/dev/null || true)"
    if [ "$have" = "$digest" ]; then
        echo "build-cnf-image: $IMAGE is up to date"
        exit 0
    fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,etc,tmp,run,var/log,opt/webfarm,root,usr/bin,proc,sys,dev}
chmod 1777 "$rootfs/tmp"

# A file at its own path in the rootfs; a symbolic link is copied as a link and its
# target too (ld.so and the libraries are found through links).
copy_path() {
    local p="$1"
    while :; do
        [ -e "$rootfs$p" ] || [ -L "$rootfs$p" ] && return 0
        mkdir -p "$rootfs$(dirname "$p")"
        if [ -L "$p" ]; then
            local target
            target="$(readlink "$p")"
            ln -s "$target" "$rootfs$p"
            case "$target" in
                /*) p="$target" ;;
                *) p="$(dirname "$p")/$target" ;;
            esac
        else
            cp -p "$p" "$rootfs$p"
            return 0
        fi
    done
}

# python and its standard library
copy_path "$PY"
copy_path "$PYREAL"
ln -sf "$(basename "$PYREAL")" "$rootfs/usr/bin/python3" 2>/dev/null || true
mkdir -p "$rootfs$STDLIB"
tar -C "$STDLIB" \
    --exclude=__pycache__ --exclude=./test --exclude=./idlelib --exclude=./tkinter \
    --exclude=./turtledemo --exclude=./ensurepip --exclude=./lib2to3 --exclude=./pydoc_data \
    --exclude='./config-*' --exclude=./site-packages --exclude=./dist-packages \
    --exclude='./lib-dynload/_test*' --exclude='./lib-dynload/xx*' \
    -cf - . | tar -C "$rootfs$STDLIB" -xf -

# every shared library python or one of its extension modules loads, when present here
for obj in "$PYREAL" "$DYNLOAD"/*.so; do
    ldd "$obj" 2>/dev/null | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'
done | sort -u | while read -r lib; do
    copy_path "$lib"
done

# busybox for a shell and the usual tools (sh, cat, kill, sleep, ls, ...)
cp "$BUSYBOX" "$rootfs/bin/busybox"
for applet in $("$BUSYBOX" --list); do
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done

install -m 0755 "$SOFTWARE/web.py" "$SOFTWARE/lb.py" "$rootfs/opt/webfarm/"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

tar -C "$rootfs" --numeric-owner -cf "$work/rootfs.tar" .
podman import \
    --change 'CMD ["/bin/sh"]' \
    --change 'ENV PATH=/usr/bin:/bin' \
    --change "LABEL org.vnfm.inputs=$digest" \
    --message "webfarm-cnf rootfs built by scripts/build-cnf-image.sh" \
    --quiet "$work/rootfs.tar" "$IMAGE" >/dev/null
echo "build-cnf-image: built $IMAGE ($(du -sh "$work/rootfs.tar" | cut -f1))"
