"""pixie.appliance's SD-card filters (SHA256SUMS parsing, partition offsets) as plain functions."""

from __future__ import annotations

import json

from ansible_collections.pixie.appliance.plugins.filter import sdcard

PATTERN = "ubuntu-{version}-preinstalled-server-arm64+raspi.img.xz"
SUMS = """\
{a} *ubuntu-24.04.2-preinstalled-server-arm64+raspi.img.xz
{b} *ubuntu-24.04.10-preinstalled-server-arm64+raspi.img.xz
{c} *ubuntu-24.04.3-preinstalled-server-arm64+raspi.img.xz
{d} *ubuntu-24.04.3-preinstalled-desktop-arm64+raspi.img.xz
{e}  ubuntu-24.10-preinstalled-server-arm64+raspi.img.xz
""".format(a="a" * 64, b="b" * 64, c="c" * 64, d="d" * 64, e="e" * 64)


def test_newest_point_release_by_number_not_text():
    assert sdcard.sdcard_pick_image(SUMS, PATTERN, "24.04") == {
        "name": "ubuntu-24.04.10-preinstalled-server-arm64+raspi.img.xz",
        "sha256": "b" * 64,
        "version": "24.04.10",
    }


def test_other_release_and_text_mode_lines():
    assert sdcard.sdcard_pick_image(SUMS, PATTERN, "24.10")["sha256"] == "e" * 64
    assert sdcard.sdcard_pick_image(SUMS, PATTERN, "22.04") == {}


def test_sum_of():
    assert sdcard.sdcard_sum_of(SUMS, "ubuntu-24.04.3-preinstalled-server-arm64+raspi.img.xz") == "c" * 64
    assert sdcard.sdcard_sum_of(SUMS, "nope.img.xz") == ""


def test_fat_offset():
    table = {
        "partitiontable": {
            "label": "dos",
            "sectorsize": 512,
            "partitions": [
                {"node": "x1", "start": 2048, "size": 1048576, "type": "c", "bootable": True},
                {"node": "x2", "start": 1050624, "size": 7000000, "type": "83"},
            ],
        }
    }
    assert sdcard.fat_offset(json.dumps(table)) == {"start": 1048576, "size": 536870912, "number": 1}
    table["partitiontable"]["partitions"] = table["partitiontable"]["partitions"][1:]
    assert sdcard.fat_offset(table) == {}


def test_partitions_all_in_order():
    table = {
        "partitiontable": {
            "label": "dos",
            "sectorsize": 512,
            "partitions": [
                {"node": "/dev/mmcblk0p1", "start": 2048, "size": 1024, "type": "c"},
                {"node": "/dev/mmcblk0p2", "start": 4096, "size": 2048, "type": "83"},
            ],
        }
    }
    assert sdcard.partitions(json.dumps(table)) == [
        {"number": 1, "start": 1048576, "size": 524288, "type": "c"},
        {"number": 2, "start": 2097152, "size": 1048576, "type": "83"},
    ]
