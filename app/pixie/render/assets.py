"""The library's files a render needs: uploaded fonts and icons, by name.

The worker reads from the durable store only the ones a spec names and hands
them in, so the renderers stay pure (same spec and assets, same frames) and
the render cache can be keyed on the assets' hashes: replacing an icon
renders again what uses it.
"""

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Assets:
    fonts: dict[str, bytes] = field(default_factory=dict)  # uploaded font name -> its file
    icons: dict[str, bytes] = field(default_factory=dict)  # icon name -> its file (PNG, GIF or WebP)

    def digest(self) -> str:
        """What the cache key adds for these files (empty when there are none)."""
        if not (self.fonts or self.icons):
            return ""
        h = hashlib.sha256()
        for kind, files in (("font", self.fonts), ("icon", self.icons)):
            for name in sorted(files):
                h.update(f"{kind}:{name}:".encode() + hashlib.sha256(files[name]).digest())
        return h.hexdigest()


NONE = Assets()
