"""What a process keeps in memory of what it loads (issue 35: every worker and the display load fonts)."""

import subprocess
import sys


def test_a_character_only_unifont_has_opens_no_built_in_on_the_way():
    # The fallback chain from 6x13 runs through the nine other built-ins before unifont: each is asked its
    # table, and only the font chosen and the one that has the characters are opened (~1 MB each a process).
    probe = (
        "from pixie.render import fonts\n"
        "print(fonts.glyphs('Hi 你好', '6x13', 16))\n"
        "print(fonts.builtin.cache_info().currsize)\n"
    )
    report, opened = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert report == str({"fallback": {"unifont": "你好"}, "missing": ""})
    assert int(opened) == 2
