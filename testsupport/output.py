"""A process's output read line by line in the background, so that waiting for a line has a deadline:
a bare readline() blocks for ever on a process that hangs, and returns "" for ever once it has exited."""

import queue
import threading
import time


class Lines:
    def __init__(self, stream):
        self.read: list[str] = []
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._ended = False
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)  # end of output: the process closed it, or exited

    def until(self, predicate, what: str, timeout: float = 30.0) -> str:
        """The first new line that predicate() accepts; fails, showing the output so far, when the output
        ends first or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while (line := self._next(deadline, what, timeout)) is not None:
            if predicate(line):
                return line
        raise AssertionError(f"the output ended before {what}; all of it:\n{self.text()}")

    def rest(self, timeout: float = 30.0) -> list[str]:
        """The lines still to come, once the output has ended (within `timeout` seconds)."""
        start, deadline = len(self.read), time.monotonic() + timeout
        while self._next(deadline, "the end of the output", timeout) is not None:
            pass
        return self.read[start:]

    def text(self) -> str:
        return "".join(self.read)

    def _next(self, deadline: float, what: str, timeout: float) -> str | None:
        """The next line, None once the output has ended; fails at the deadline."""
        if self._ended:
            return None
        try:
            line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            late = f"timed out after {timeout} s waiting for {what}"
            raise AssertionError(f"{late}; the output so far:\n{self.text()}") from None
        if line is None:
            self._ended = True
        else:
            self.read.append(line)
        return line
