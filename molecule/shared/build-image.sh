#!/usr/bin/env bash
# Build (or reuse) the cached base disk image for Pixie's molecule VMs.
#
#   build-image.sh --arch amd64|arm64 [--packages "PKG ..."] [--force] [--keep-work]
#
# Prints the path of the image on stdout (everything else goes to stderr).
# The image is a sparse raw disk with a Raspberry-Pi-like layout (MBR, as in
# Ubuntu Server 24.04's preinstalled raspi image):
#   p1  FAT32, label system-boot, mounted at /boot/firmware: cmdline.txt,
#       config.txt, vmlinuz, initrd.img (the VM's "firmware", tools/pivm,
#       boots those with the command line from cmdline.txt)
#   p2  ext4, label writable, mounted at /
# Root filesystem: debootstrap'ed Debian 13 (systemd, openssh-server, python3,
# sudo, kernel + initramfs), user "ubuntu" with passwordless sudo, and what
# Ubuntu Server runs at first boot and after: cloud-init (seeded from the boot
# partition, as on the Pi: it installs the SSH key and makes the host keys),
# unattended-upgrades and the apt-daily timers, enabled.
# --packages (or PIXIE_IMAGE_PACKAGES): extra apt packages baked into the image
# with apt-get (Recommends too, as a playbook's apt task would), so that slow
# installs under emulation are done once per cache key instead of every run.
# No mounts: mkfs.ext4 -d / mkfs.vfat --offset / mcopy write straight into the
# image at the offsets read back from its partition table.
#
# Cache: ${PIXIE_MOLECULE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pixie-molecule}
# Key:   sha256 of this script + pi-disk.sh + image/ + arch + suite + mirror, so any change
#        to how the image is made rebuilds it; older images of the same arch
#        are deleted after a successful build.
# Env:   PIXIE_DEBIAN_MIRROR / PIXIE_DEBIAN_SECURITY_MIRROR (default: the
#        mirrors the host's apt uses, else debootstrap's default),
#        PIXIE_DEBIAN_SUITE (trixie: its python3-pil, 11.1, is one the app can
#        use, as Ubuntu 24.04's 10.2 is; Debian 12's 9.4 is not),
#        PIXIE_ROOT_SIZE_MIB (6144), PIXIE_BOOT_SIZE_MIB (512).
# Needs root (debootstrap), debootstrap, e2fsprogs, dosfstools, mtools, fdisk;
# for arm64 on x86 also qemu-user-static + binfmt-support.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=pi-disk.sh
. "$here/pi-disk.sh"
arch=amd64
force=0
keep_work=0
extra_packages=${PIXIE_IMAGE_PACKAGES:-}
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) arch=$2; shift 2 ;;
        --arch=*) arch=${1#*=}; shift ;;
        --packages) extra_packages=$2; shift 2 ;;
        --packages=*) extra_packages=${1#*=}; shift ;;
        --force) force=1; shift ;;
        --keep-work) keep_work=1; shift ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "build-image.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$arch" in
    amd64|x86_64) arch=amd64 ;;
    arm64|aarch64) arch=arm64 ;;
    *) echo "build-image.sh: --arch must be amd64 or arm64" >&2; exit 2 ;;
esac

# sorted, unique, space separated
extra_packages=$(echo "$extra_packages" | tr ', ' '\n\n' | sed '/^$/d' | LC_ALL=C sort -u | tr '\n' ' ' | sed 's/ $//')
if [ -n "$extra_packages" ]; then
    flavor=p$(echo "$extra_packages" | sha256sum | cut -c1-8)
else
    flavor=min
fi

log() { printf '[build-image %s %(%H:%M:%S)T] %s\n' "$arch" -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The controller's own apt source ending in $1 (no mirror host in the repo).
host_repo() { PYTHONPATH="$repo/tools" python3 -m pivm.hostenv apt-mirror "$1"; }

suite=${PIXIE_DEBIAN_SUITE:-trixie}
# Empty mirror: debootstrap's own default.
mirror=${PIXIE_DEBIAN_MIRROR:-$(host_repo /debian)}
mirror=${mirror%/}
security=${PIXIE_DEBIAN_SECURITY_MIRROR:-$(host_repo /debian-security)}
root_mib=${PIXIE_ROOT_SIZE_MIB:-6144}
boot_mib=${PIXIE_BOOT_SIZE_MIB:-512}
cache=${PIXIE_MOLECULE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pixie-molecule}

key=$( { cat "$here/build-image.sh" "$here/pi-disk.sh";
         (cd "$here/image" && find . -type f -o -type l | LC_ALL=C sort | while read -r f; do
              echo "$f"; if [ -L "$f" ]; then readlink "$f"; else cat "$f"; fi; done);
         echo "$arch $suite $mirror $security $root_mib $boot_mib $extra_packages"; } | sha256sum | cut -c1-12)
image="$cache/base-$arch-$flavor-$key.img"

if [ "$force" = 0 ] && [ -s "$image" ]; then
    log "cached: $image"
    echo "$image"
    exit 0
fi

[ "$(id -u)" = 0 ] || die "needs root (debootstrap); run with sudo"
for c in debootstrap mkfs.ext4 mkfs.vfat mcopy sfdisk chroot; do
    command -v "$c" >/dev/null || die "missing $c (apt-get install debootstrap e2fsprogs dosfstools mtools fdisk)"
done

mkdir -p "$cache"
exec 9>"$cache/build-$arch.lock"
flock 9
if [ "$force" = 0 ] && [ -s "$image" ]; then   # built by someone else meanwhile
    log "cached: $image"; echo "$image"; exit 0
fi

t0=$(date +%s)
work="$cache/work-$arch-$key"
cleanup() {
    local rc=$?
    # never leave virtual filesystems mounted inside the chroot
    for m in proc sys dev/pts dev; do
        mountpoint -q "$work/root/$m" 2>/dev/null && umount -l "$work/root/$m" || true
    done
    if [ "$keep_work" = 0 ] || [ $rc = 0 ]; then rm -rf "$work"; fi
    exit $rc
}
trap cleanup EXIT
rm -rf "$work"
mkdir -p "$work/root" "$work/boot"
root="$work/root"

# --- foreign architecture: qemu-user through binfmt_misc -------------------
if [ "$arch" = arm64 ] && [ "$(dpkg --print-architecture)" != arm64 ]; then
    command -v qemu-aarch64-static >/dev/null || die "missing qemu-user-static"
    [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
        update-binfmts --enable qemu-aarch64 >&2 || die "cannot enable binfmt qemu-aarch64"
    fi
    grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || die "binfmt qemu-aarch64 not enabled"
fi

case "$arch" in
    amd64) kernel_pkg=linux-image-amd64 ;;
    arm64) kernel_pkg=linux-image-arm64 ;;
esac
packages=(
    systemd-sysv udev dbus libpam-systemd systemd-resolved kmod
    openssh-server sudo python3 python3-apt ca-certificates curl gpg
    iproute2 procps less zstd dosfstools e2fsprogs
    initramfs-tools "$kernel_pkg"
    cloud-init unattended-upgrades
    python3-cffi-backend   # provides the virtual package python3-cryptography needs (debootstrap resolves none)
)

# Our files go in BEFORE debootstrap: initramfs-tools must see MODULES=list
# when the kernel package is configured (MODULES=most: ~13 min per
# mkinitramfs run under qemu-user), and the firmware hook fills /boot/firmware.
cp -a "$here/image/rootfs/." "$root/"
chown -R 0:0 "$root"
chmod 0440 "$root/etc/sudoers.d/90-pixie-vm"
mkdir -p "$root/boot/firmware"

log "debootstrap $suite from ${mirror:-the default mirror of debootstrap}"
t_ds=$(date +%s)
debootstrap --arch="$arch" --variant=minbase --components=main \
    --include="$(IFS=,; echo "${packages[*]}")" \
    "$suite" "$root" ${mirror:+"$mirror"} > "$work/debootstrap.log" 2>&1 \
    || { tail -n 40 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }
log "debootstrap done in $(( $(date +%s) - t_ds )) s"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# --- configuration -----------------------------------------------------------
log "configure"
echo pixie > "$root/etc/hostname"
cat > "$root/etc/hosts" <<HOSTS
127.0.0.1	localhost
127.0.1.1	pixie
::1		localhost ip6-localhost ip6-loopback
HOSTS
# The guest's apt uses the mirror debootstrap used (its sources.list names it).
used=$(awk '/^deb /{print $2; exit}' "$root/etc/apt/sources.list" 2>/dev/null || true)
mirror=${mirror:-${used%/}}
[ -n "$mirror" ] || die "cannot tell which mirror debootstrap used"
security=${security:-${mirror%/debian}/debian-security}
cat > "$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
rm -f "$root/etc/apt/sources.list"

if [ -n "$extra_packages" ]; then
    log "apt-get install $extra_packages"
    t_x=$(date +%s)
    for m in proc sys dev dev/pts; do mkdir -p "$root/$m"; done
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount --bind /dev "$root/dev"
    mount -t devpts devpts "$root/dev/pts"
    rm -f "$root/etc/resolv.conf"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"   # start no services in the chroot
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    # shellcheck disable=SC2086 # the list is meant to split
    in_root env DEBIAN_FRONTEND=noninteractive sh -c "apt-get update -q && apt-get install -y -q $extra_packages" \
        > "$work/apt.log" 2>&1 || { tail -n 40 "$work/apt.log" >&2; die "apt-get install failed (log: $work/apt.log)"; }
    rm -f "$root/usr/sbin/policy-rc.d"
    for m in dev/pts dev sys proc; do umount "$root/$m"; done
    log "extra packages installed in $(( $(date +%s) - t_x )) s"
fi

in_root useradd --create-home --shell /bin/bash --groups sudo --comment "Pixie test VM" ubuntu
in_root passwd --lock ubuntu >/dev/null
in_root passwd --lock root >/dev/null

# systemd units: networkd + resolved (as netplan/cloud-init set up on Ubuntu).
# The apt-daily timers stay on and unattended-upgrades is enabled as Ubuntu
# ships it (20auto-upgrades), so the roles meet them as on a Pi.
in_root systemctl enable systemd-networkd.service systemd-resolved.service ssh.service >/dev/null 2>&1
cat > "$root/etc/apt/apt.conf.d/20auto-upgrades" <<'AUTO'
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
AUTO
ln -sf ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"

# Each VM makes its own host keys (cloud-init) and machine id on first boot.
rm -f "$root"/etc/ssh/ssh_host_*
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

# Boot files: as flash-kernel does on the Pi, the kernel and initramfs live on
# the boot partition next to cmdline.txt/config.txt.
kver=$(ls "$root"/boot/vmlinuz-* | sed 's|.*/vmlinuz-||' | sort -V | tail -n1)
[ -n "$kver" ] || die "no kernel installed"
[ -s "$root/boot/initrd.img-$kver" ] || die "no initramfs for $kver"
log "kernel $kver, initrd $(du -h "$root/boot/initrd.img-$kver" | cut -f1)"
cp "$root/boot/vmlinuz-$kver" "$work/boot/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/boot/initrd.img"
cp "$here/image/boot/cmdline.txt" "$here/image/boot/config.txt" "$work/boot/"
find "$root/boot/firmware" -mindepth 1 -delete   # it is only a mount point
in_root apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old "$root/debootstrap"

# --- disk image: partition table first, then filesystems at its offsets ------
log "assemble disk image"
disk="$work/disk.img"
pi_disk "$disk" "$boot_mib" "$root_mib" "$root" \
    "$work/boot/cmdline.txt" "$work/boot/config.txt" "$work/boot/vmlinuz" "$work/boot/initrd.img"

# sanity: read everything back the way the launcher will
PYTHONPATH="$repo/tools:$repo/collections" python3 -m pivm firmware --arch "$arch" --disk "$disk" >&2 ||
    die "pivm cannot read the firmware files"

cat > "$work/meta.json" <<META
{"arch": "$arch", "suite": "$suite", "mirror": "$mirror", "kernel": "$kver", "key": "$key",
 "packages": "$extra_packages",
 "build_seconds": $(( $(date +%s) - t0 )), "built": "$(date -u +%FT%TZ)"}
META
mv "$work/meta.json" "${image%.img}.json"
mv "$disk" "$image"
# drop older images of this arch
for old in "$cache"/base-"$arch"-"$flavor"-*.img "$cache"/base-"$arch"-[0-9a-f]*.img; do
    [ "$old" = "$image" ] || rm -f "$old" "${old%.img}.json"
done
log "built $image in $(( $(date +%s) - t0 )) s ($(du -h "$image" | cut -f1) allocated)"
echo "$image"
