"""Pillow rendering: a job spec in, a list of (RGB24 frame, hold µs) out.

One module per concern, as Pixlet's render package has one file per widget:
`kinds` (a job's kind to its frames), `media` (uploads: open, check, place),
`fonts`, `text`, `draw` (shapes, text and bitmaps at positions), `progress`
(bars), `chart` (bar and line charts), `faces` (clock, countdown),
`patterns`, `indicators` and `frames` (the stream's shared vocabulary).
It runs in the render workers (and, for the faces and indicators, in the
display's watcher), never in the playback loop. Every
function is pure: same input, same frames (a face is the time now: its
callers say when that is). It takes any object with the fields of a `spec`
model and does not import pydantic, so the display process stays small;
importing this package imports none of its modules.
"""

# Bump when a change alters the pixels produced for the same spec: cached
# streams are keyed on it.
VERSION = 2
