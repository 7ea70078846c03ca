"""What every renderer hands back: frames of RGB24 bytes, each with its hold time."""

Frames = list[tuple[bytes, int]]

STILL_HOLD_US = 1_000_000
MIN_FRAME_US = 1_000_000 // 60  # nothing on a HUB75 panel needs more than 60 fps
