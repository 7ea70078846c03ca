"""What a process keeps in memory of what it loads (issue 35: every worker and the display load fonts)."""

import gzip
import subprocess
import sys

from pixie.render import fonts


def test_a_built_in_font_keeps_no_unpacked_copy_of_its_file():
    # Unifont, the largest: FreeType reads the file itself; a face opened from the unpacked bytes kept them
    # (4.9 MB) and FreeType's tables built from them (12 MB of anonymous memory in all).
    with open(f"{fonts.BUILTIN_DIR}/{fonts.BUILTIN['unifont']}", "rb") as f:
        unpacked = len(gzip.decompress(f.read()))
    probe = (
        "import re\n"
        "from pixie.render import fonts\n"
        "def anon(): return int(re.search(r'RssAnon:\\s+(\\d+)', open('/proc/self/status').read())[1]) * 1024\n"
        "before = anon()\n"
        "fonts.builtin('unifont').font.getmask('Pixie')\n"
        "print(anon() - before)\n"
    )
    grown = int(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    assert 0 < grown < unpacked, f"{grown} bytes for a font of {unpacked}"


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
