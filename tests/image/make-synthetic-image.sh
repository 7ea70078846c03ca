#!/usr/bin/env bash
# Make a small synthetic "Ubuntu Server preinstalled raspi" image for the
# flash.yml / image.yml tests, and optionally serve it over loopback HTTP.
#
#   make-synthetic-image.sh [--minimal] OUTDIR [--serve PORT]
#
# --minimal: the writable partition holds only the marker, fstab and
# /boot/firmware (no debootstrap, no root needed, seconds): enough for
# flash.yml, which never looks inside the root filesystem.
#
# STAND-IN: the image has the layout of Ubuntu Server 24.04's
# ubuntu-24.04.x-preinstalled-server-arm64+raspi.img.xz, NOT its content:
#   MBR; p1 FAT32 label system-boot with Ubuntu 24.04's cmdline.txt and
#   config.txt (molecule/shared/image/boot/, shared with the molecule VMs);
#   p2 ext4 label writable with a debootstrapped Debian 12 arm64 root
#   (minbase + systemd, python3: enough for Ansible's chroot connection).
# Both filesystems carry a PIXIE-STAND-IN marker file saying so.
#
# Writes OUTDIR/releases/24.04/release/ (the layout of
# cdimage.ubuntu.com/releases/): the .img.xz and SHA256SUMS listing it and
# a fake older point release (so "newest point release" has to choose).
# Prints OUTDIR/releases on stdout; with --serve, then serves OUTDIR on
# 127.0.0.1:PORT until killed (python3 -m http.server).
#
# Cache: ${PIXIE_IMAGE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pixie-image-test}
# the debootstrap root (a tarball) is keyed on the suite, packages and
# mirror, the finished .img.xz on the sha256 of this script + the boot files.
# Needs root (debootstrap, device nodes in the tarball), debootstrap,
# qemu-user-static + binfmt-support (arm64 on x86), e2fsprogs, dosfstools,
# mtools, fdisk, xz-utils. Env: PIXIE_DEBIAN_MIRROR (default: the controller's
# own apt source, as molecule's builder).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../../molecule/shared/pi-disk.sh
. "$repo/molecule/shared/pi-disk.sh"
bootfiles="$repo/molecule/shared/image/boot"
minimal=0
if [ "${1:-}" = --minimal ]; then minimal=1; shift; fi
out=${1:?usage: make-synthetic-image.sh [--minimal] OUTDIR [--serve PORT]}
shift
serve=""
if [ "${1:-}" = --serve ]; then serve=${2:?--serve needs a port}; fi

version=24.04.3
name="ubuntu-$version-preinstalled-server-arm64+raspi.img.xz"
# Empty: debootstrap's own default (the controller has no Debian source).
mirror=${PIXIE_DEBIAN_MIRROR:-$(PYTHONPATH="$repo/tools" python3 -m pivm.hostenv apt-mirror /debian)}
cache=${PIXIE_IMAGE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pixie-image-test}
packages=systemd-sysv,python3,python3-apt,sudo,ca-certificates,kmod
# The slow part (debootstrap under qemu-user) is keyed on what it installs;
# the finished image on the whole script and the boot files.
rootfs_key=$(echo "bookworm arm64 minbase $packages $mirror" | sha256sum | cut -c1-12)
key=$(cat "$0" "$repo/molecule/shared/pi-disk.sh" "$bootfiles/cmdline.txt" "$bootfiles/config.txt" <(echo "$mirror") | sha256sum | cut -c1-12)
rootfs="$cache/rootfs-arm64-$rootfs_key.tar"
flavour=$([ "$minimal" = 1 ] && echo minimal || echo debian)
cached_xz="$cache/synthetic-$flavour-$key.img.xz"

log() { printf '[synthetic-image %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$cache"
exec 9>"$cache/build.lock"
flock 9

if [ ! -s "$cached_xz" ]; then
    [ "$minimal" = 1 ] || [ -s "$rootfs" ] || [ "$(id -u)" = 0 ] \
        || die "needs root to build the cached root filesystem (debootstrap); or use --minimal"
    work=$(mktemp -d "$cache/work.XXXXXX")
    trap 'for m in proc sys dev; do mountpoint -q "$work/root/$m" && umount -l "$work/root/$m"; done; rm -rf "$work"' EXIT
    if [ "$minimal" = 0 ] && [ ! -s "$rootfs" ]; then
        if [ "$(dpkg --print-architecture)" != arm64 ]; then
            [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
            grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || update-binfmts --enable qemu-aarch64 >&2 \
                || die "cannot enable binfmt qemu-aarch64 (apt-get install qemu-user-static binfmt-support)"
        fi
        log "debootstrap bookworm arm64 from ${mirror:-the default mirror of debootstrap} (one-off, cached as $rootfs)"
        t=$(date +%s)
        debootstrap --arch=arm64 --variant=minbase --components=main \
            --include="$packages" \
            bookworm "$work/root" ${mirror:+"$mirror"} > "$work/debootstrap.log" 2>&1 \
            || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
        log "debootstrap done in $(( $(date +%s) - t )) s"
        chroot "$work/root" apt-get clean
        rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/debootstrap"
        tar -C "$work/root" --numeric-owner -cf "$rootfs.tmp" . && mv "$rootfs.tmp" "$rootfs"
        rm -rf "$work/root"
        for old in "$cache"/rootfs-arm64-*.tar; do [ "$old" = "$rootfs" ] || rm -f "$old"; done
    fi

    log "assemble the image"
    root="$work/root"
    mkdir -p "$root"
    if [ "$minimal" = 0 ]; then tar -C "$root" --numeric-owner -xf "$rootfs"; fi
    mkdir -p "$root/etc"
    mkdir -p "$root/boot/firmware"
    cat > "$root/etc/fstab" <<'FSTAB'
LABEL=writable	/	ext4	discard,errors=remount-ro	0	1
LABEL=system-boot	/boot/firmware	vfat	defaults	0	1
FSTAB
    echo "PIXIE-STAND-IN: Debian 12 arm64 debootstrap root in the layout of Ubuntu Server 24.04 preinstalled raspi (test image, not Ubuntu)" \
        > "$root/etc/pixie-stand-in"
    echo ubuntu > "$root/etc/hostname"
    cp "$bootfiles/cmdline.txt" "$bootfiles/config.txt" "$work/"
    echo "PIXIE-STAND-IN test image: not Ubuntu, see /etc/pixie-stand-in on writable" > "$work/STANDIN.TXT"
    # Ubuntu's default NoCloud seed files (replaced by flash.yml)
    printf '#cloud-config\n# stand-in default\n' > "$work/user-data"
    printf 'network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n      optional: true\n' > "$work/network-config"
    printf 'instance-id: ubuntu-default\n' > "$work/meta-data"

    boot_mib=64
    used_mib=$(( $(du -s --block-size=1M "$root" | cut -f1) ))
    root_mib=$(( used_mib + used_mib / 4 + 64 ))   # minimal: 65 MiB
    disk="$work/disk.img"
    PI_DISK_VFAT_OPTS="-s 1" pi_disk "$disk" "$boot_mib" "$root_mib" "$root" "$work/cmdline.txt" \
        "$work/config.txt" "$work/STANDIN.TXT" "$work/user-data" "$work/network-config" "$work/meta-data"
    log "image $(( 1 + boot_mib + root_mib )) MiB; xz"
    xz -T0 -3 -c "$disk" > "$cached_xz.tmp"
    mv "$cached_xz.tmp" "$cached_xz"
    for old in "$cache"/synthetic-"$flavour"-*.img.xz; do [ "$old" = "$cached_xz" ] || rm -f "$old"; done
fi
flock -u 9

dir="$out/releases/24.04/release"
mkdir -p "$dir"
cp "$cached_xz" "$dir/$name"
sum=$(sha256sum "$dir/$name" | cut -d' ' -f1)
cat > "$dir/SHA256SUMS" <<SUMS
0000000000000000000000000000000000000000000000000000000000000000 *ubuntu-24.04.2-preinstalled-server-arm64+raspi.img.xz
1111111111111111111111111111111111111111111111111111111111111111 *ubuntu-$version-live-server-arm64.iso
$sum *$name
SUMS
echo "$out/releases"
if [ -n "$serve" ]; then
    exec python3 -m http.server --bind 127.0.0.1 --directory "$out" "$serve"
fi
