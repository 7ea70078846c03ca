"""Token-level editing of a Raspberry Pi ``cmdline.txt`` (kernel command line).

The firmware reads ONE line. ``cmdline_update`` takes the file content
and returns the new content:

* every line's tokens are merged into one line (a stray second line, e.g. an
  ``isolcpus=3`` appended with ``echo >>``, would otherwise be ignored);
* a key in ``tokens`` replaces the first token with that key in place, later
  tokens with the same key are dropped, a missing key is appended (before a
  ``--`` that hands the rest to init, if any); a value of ``None`` or ``""``
  writes a bare flag (``quiet``);
* every token whose key is in ``remove`` is dropped (e.g. the misspelt
  ``isolcpu``);
* all other tokens keep their order and spelling, duplicates included
  (``console=`` legitimately appears twice);
* a trailing newline is kept if the input had one.

Keys are compared the way the kernel does: ``-`` and ``_`` are equivalent.
Double-quoted values (``key="a b"``) stay one token.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def _tokens(text):
    tokens = []
    current = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
            current.append(char)
        elif char.isspace() and not quoted:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(char)
    if quoted:
        raise AnsibleFilterError("cmdline has an unbalanced double quote")
    if current:
        tokens.append("".join(current))
    return tokens


def _key(token):
    return token.split("=", 1)[0].replace("-", "_")


def _render(key, value):
    if value is None or value == "":
        return key
    if isinstance(value, bool):
        raise AnsibleFilterError(f"cmdline value for {key!r} must be a string, not a boolean")
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    value = str(value)
    if any(c.isspace() for c in value) and not value.startswith('"'):
        value = f'"{value}"'
    return f"{key}={value}"


def cmdline_tokens(content):
    """Split cmdline content (all lines) into kernel tokens."""
    return _tokens(str(content))


def cmdline_update(content, tokens=None, remove=None):
    """Return ``content`` with ``tokens`` (key -> value) applied and ``remove`` keys dropped."""
    content = "" if content is None else str(content)
    remove_keys = {_key(k) for k in (remove or [])}
    wanted = {}
    for key, value in dict(tokens or {}).items():
        key = str(key)
        if not key or any(c.isspace() or c in '="' for c in key):
            raise AnsibleFilterError(f"invalid cmdline key {key!r}")
        wanted[_key(key)] = _render(key, value)
    clash = remove_keys.intersection(wanted)
    if clash:
        raise AnsibleFilterError(f"cmdline keys both set and removed: {sorted(clash)}")

    current = _tokens(content)
    if "--" in current:
        split = current.index("--")
        kernel, init = current[:split], current[split:]
    else:
        kernel, init = current, []

    out = []
    placed = set()
    for token in kernel:
        key = _key(token)
        if key in remove_keys:
            continue
        if key in wanted:
            if key not in placed:
                placed.add(key)
                out.append(wanted[key])
            continue
        out.append(token)
    out.extend(token for key, token in wanted.items() if key not in placed)

    line = " ".join(out + init)
    return line + ("\n" if content.endswith("\n") else "")


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {
            "cmdline_update": cmdline_update,
            "cmdline_tokens": cmdline_tokens,
        }
