"""What the display process draws on: the real panel or a stand-in.

- `rgbmatrix`: hzeller's binding on the Pi. Its refresh thread pins itself to
  CPU 3 with SCHED_FIFO; this process must never run Python there.
- `emulator`: RGBMatrixEmulator, the same API drawn in a browser or window
  (STAND-IN for the absent panel, for a person at a desktop).
- `headless`: no output at all; records every swapped frame and its swap
  time (STAND-IN for the absent panel, for tests and benchmarks).

All three take pre-filled canvases and show one per swap.
"""

import functools
import logging
import os
import time

from PIL import Image

from ..stream import record_header


def open_backend(config):
    kind = config.display.backend
    if kind == "headless":
        return Headless(config.panel, config.display.record_path)
    if kind == "emulator":
        import RGBMatrixEmulator

        matrix = Matrix(RGBMatrixEmulator, config.panel)
        _emulator_page(matrix, config.display.emulator_host, config.display.emulator_port)
        return matrix
    import rgbmatrix

    return Matrix(rgbmatrix, config.panel)


def _emulator_page(matrix: "Matrix", host: str, port: int) -> None:
    """RGBMatrixEmulator's browser adapter (0.20): its page on `host`:`port`, its log without chatter. It
    listens on every address, with no setting for that: its server, one per process and started with the
    first canvas, is made here first and told `host`."""
    from RGBMatrixEmulator.adapters.browser_adapter.adapter import BrowserAdapter
    from RGBMatrixEmulator.adapters.browser_adapter.server import Server

    logging.getLogger("RGBME").propagate = False  # it prints its records itself: not each twice
    logging.getLogger("tornado.access").setLevel(logging.WARNING)  # a line per request to its page: errors only
    options = matrix.matrix.options
    if not issubclass(options.display_adapter, BrowserAdapter):
        return
    options.browser.port = port
    adapter = options.display_adapter.get_instance(*options.screen.screen_size, options)
    app = Server(adapter).instance.app
    app.listen = functools.partial(app.listen, address=host or None)


class Matrix:
    def __init__(self, module, panel):
        options = module.RGBMatrixOptions()
        options.rows = panel.rows
        options.cols = panel.cols
        options.chain_length = panel.chain_length
        options.parallel = panel.parallel
        # A pip-built binding ignores HARDWARE_DESC: the mapping is set here.
        options.hardware_mapping = panel.hardware_mapping
        options.gpio_slowdown = panel.gpio_slowdown
        options.pwm_bits = panel.pwm_bits
        options.pwm_lsb_nanoseconds = panel.pwm_lsb_nanoseconds
        options.limit_refresh_rate_hz = panel.limit_refresh_rate_hz
        options.brightness = panel.brightness
        # Keep root: the process reads Redis and its config after start-up.
        options.drop_privileges = False
        self.matrix = module.RGBMatrix(options=options)
        self.size = (panel.width, panel.height)

    def canvas(self):
        return self.matrix.CreateFrameCanvas()

    def fill(self, canvas, rgb: bytes) -> None:
        canvas.SetImage(Image.frombytes("RGB", self.size, rgb))

    def swap(self, canvas) -> None:
        self.matrix.SwapOnVSync(canvas)

    @property
    def brightness(self) -> int:
        return self.matrix.brightness

    @brightness.setter
    def brightness(self, value: int) -> None:
        # The library applies brightness when pixels are set: callers refill.
        self.matrix.brightness = value


class Headless:
    """STAND-IN for the LED panel: keeps the last frame, optionally records all."""

    def __init__(self, panel, record_path: str = "", now_ns=time.time_ns):
        self.size = (panel.width, panel.height)
        self.now_ns = now_ns  # the swap times recorded: a test's fake clock, or real time
        self.brightness = panel.brightness
        self.record = os.open(record_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if record_path else None

    def canvas(self):
        return bytearray(self.size[0] * self.size[1] * 3)

    def fill(self, canvas, rgb: bytes) -> None:
        if self.brightness < 100:
            rgb = rgb.translate(bytes(value * self.brightness // 100 for value in range(256)))
        canvas[:] = rgb

    def swap(self, canvas) -> None:
        if self.record is not None:
            os.write(self.record, record_header(len(canvas), self.now_ns()) + canvas)
