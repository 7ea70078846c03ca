# shellcheck shell=bash
# Sourced by build-image.sh and tests/image/make-synthetic-image.sh: the one
# writer of a disk image with the Raspberry Pi layout (as Ubuntu's preinstalled
# raspi image): MBR, p1 FAT32 "system-boot", p2 ext4 "writable". No mounts:
# mkfs.vfat --offset, mcopy and mke2fs -d write straight into the image at the
# offsets read back from its own table (the collection's partitions reader).
#
#   pi_disk DISK BOOT_MIB ROOT_MIB ROOTFS_DIR BOOT_FILE...   (needs $repo)
# PI_DISK_VFAT_OPTS: extra mkfs.vfat options (e.g. -s 1 for a tiny FAT).
pi_disk() {
    local disk=$1 boot_mib=$2 root_mib=$3 rootfs=$4 p1_start p1_size p2_start p2_size
    shift 4
    truncate -s "$(( 1 + boot_mib + root_mib ))M" "$disk"
    sfdisk --quiet "$disk" <<TABLE
label: dos
unit: sectors
start=2048, size=$(( boot_mib * 2048 )), type=c, bootable
start=$(( 2048 + boot_mib * 2048 )), type=83
TABLE
    read -r p1_start p1_size p2_start p2_size < <(PYTHONPATH="$repo/collections" \
        python3 -m ansible_collections.pixie.appliance.plugins.module_utils.partitions "$disk")
    # shellcheck disable=SC2086 # options are meant to split
    mkfs.vfat -F 32 ${PI_DISK_VFAT_OPTS:-} -n system-boot --offset=$(( p1_start / 512 )) "$disk" \
        $(( p1_size / 1024 )) >/dev/null
    MTOOLS_SKIP_CHECK=1 mcopy -i "$disk@@$p1_start" "$@" ::
    # Inode tables and journal zeroed now, not by the kernel's ext4lazyinit over the first hours
    # of the first boot: those writes would count as the appliance's in verify's disk figures.
    mke2fs -q -F -t ext4 -L writable -E offset="$p2_start",lazy_itable_init=0,lazy_journal_init=0 \
        -d "$rootfs" "$disk" $(( p2_size / 1024 ))k
}
