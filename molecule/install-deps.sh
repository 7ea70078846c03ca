#!/usr/bin/env bash
# Install what Pixie's molecule scenarios need on a Debian 12 controller:
# QEMU (x86_64 + aarch64 system emulators, qemu-img, qemu-user for the arm64
# image build), debootstrap, filesystem tools that write images without
# mounting, and a venv with molecule + ansible (molecule/requirements.txt).
#
#   molecule/install-deps.sh [VENV]     (as root; default VENV below)
#
# VENV default: ${PIXIE_MOLECULE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/pixie-molecule/venv}
# Then: PATH="$VENV/bin:$PATH" molecule test -s default
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${1:-${PIXIE_MOLECULE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/pixie-molecule/venv}}

packages=(
    qemu-system-x86 qemu-system-arm qemu-utils
    qemu-user-static binfmt-support debootstrap
    mtools dosfstools e2fsprogs fdisk
    openssh-client git python3-venv
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    # stdout is the venv path the caller reads: everything else goes to stderr.
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
"$venv/bin/pip" install -q -r "$here/requirements.txt" >&2   # a no-op when satisfied
PATH="$venv/bin:$PATH" "$venv/bin/molecule" --version >&2
echo "$venv"
