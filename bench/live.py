"""`python -m bench.live`: live data in apps against sending the text as a job.

One appliance (web, two `rq worker`s, the display on the headless STAND-IN
panel that records every frame and its swap time, the MQTT bridge) and a
real mosquitto on loopback, with one app in the rotation showing
`{{bench/value}}`. Each figure beside its baseline, same run:

- value → new frame, in ms: a value published on `bench/value` until the
  app's frame showing it is swapped on the panel (the bridge keeps it, a
  render worker draws the app again, the display swaps it in at once),
  against the same text sent as a text job on `pixie/<device>/notify`
  (sample by sample, alternating; each value a second or more after the
  previous one, as a sensor reports: a value within `[apps]
  live_min_interval_s` of the last waits for the interval's end, which the
  next figure measures);
- coalescing: a sender publishing 10 values a second for 10 s: the values
  the bridge took, the renders they caused (one per interval, 1 s as
  shipped), and the same with `live_min_interval_s = 0` (a render per
  value, unless the workers fall behind); how late the last value showed.
"""

import json
import time

from pixie import config as configuration
from pixie import spec, store
from pixie.render import kinds
from testsupport import servers
from testsupport.mqtt import Client
from testsupport.servers import wait_for

from .harness import Stack, cli, machine, side_by_side, summaries, workdir

SIZES = {"full": {"latency": 200, "burst_s": 10}, "smoke": {"latency": 3, "burst_s": 1}}
DEVICE = "bench"
TOPIC = "bench/value"
APP = "live"
RATE_HZ = 10


def expected(text: str) -> bytes:
    panel, limits = configuration.Panel(), configuration.Render()
    return kinds.render(spec.parse({"kind": "text", "text": text}), None, panel.width, panel.height, limits)[0][0]


def start_bridge(stack: Stack, port: int, interval_s: float) -> None:
    """The bridge (again) with this interval, online once its birth message is out."""
    if old := stack.processes.procs.pop("mqtt", None):
        old.terminate()
        old.wait(10)
    stack.processes.env["PIXIE_APPS_LIVE_MIN_INTERVAL_S"] = str(interval_s)
    watcher = Client(port, f"pixie/{DEVICE}/availability")
    try:
        stack.processes.start("mqtt", "pixie-mqtt")
        watcher.wait(lambda: [m for m in watcher.on(f"pixie/{DEVICE}/availability") if m.payload == b"online"], "up")
    finally:
        watcher.close()


def show(stack: Stack, client: Client, value: str) -> int:
    """Publish `value` and wait for the app's frame showing it: when it was published (ns)."""
    t0 = time.time_ns()
    client.publish(TOPIC, value).wait_for_publish(10)
    stack.first_frame_after(t0, expected(value))
    return t0


def latency(stack: Stack, client: Client, n: int, interval_s: float) -> dict[str, list[float]]:
    samples = {"baseline": [], "pixie": []}
    last_shown = time.monotonic() + interval_s  # a render still due from the values before: come by then
    for i in range(n):
        text = f"b{i:03d}"
        t0 = time.time_ns()
        client.publish(f"pixie/{DEVICE}/notify", {"kind": "text", "text": text, "duration_s": 0.05})
        samples["baseline"].append((stack.first_frame_after(t0, expected(text)) - t0) / 1e6)
        stack.drain()
        # a value after a quiet interval: the last one was asked for before its frame showed
        time.sleep(max(0.0, last_shown + interval_s + 0.05 - time.monotonic()))
        text = f"p{i:03d}"
        t0 = time.time_ns()
        client.publish(TOPIC, text).wait_for_publish(10)
        samples["pixie"].append((stack.first_frame_after(t0, expected(text)) - t0) / 1e6)
        last_shown = time.monotonic()
    return samples


def renders_since(stack: Stack, after: str) -> int:
    entries = stack.v.xrange(store.EVENTS, f"({after}", "+")
    return sum(
        1
        for _, kind, data in store.decode_events([(store.EVENTS, entries)])
        if kind == "apps" and data.get("name") == APP and "live" in data
    )


def burst(stack: Stack, client: Client, seconds: float, interval_s: float, tag: str) -> dict:
    """RATE_HZ values a second for `seconds`; the renders they caused, once the last one showed and
    two intervals passed (a render due at an interval's end has come by then)."""
    time.sleep(interval_s + 0.1)  # what came before is drawn
    mark = stack.v.xrevrange(store.EVENTS, count=1)[0][0].decode()
    count = int(seconds * RATE_HZ)
    start = time.monotonic()
    for i in range(count):
        time.sleep(max(0.0, start + i / RATE_HZ - time.monotonic()))
        t_last = time.time_ns()
        client.publish(TOPIC, f"{tag}{i:03d}").wait_for_publish(10)
    shown = stack.first_frame_after(t_last, expected(f"{tag}{count - 1:03d}"))
    time.sleep(2 * interval_s + 0.2)
    renders = renders_since(stack, mark)
    return {
        "values": count,
        "renders": renders,
        "saved": count - renders,
        "last_value_to_panel_ms": round((shown - t_last) / 1e6, 1),
    }


def main() -> None:
    args = cli(__doc__)
    sizes = SIZES["smoke" if args.smoke else "full"]
    interval_s = configuration.Apps().live_min_interval_s
    with workdir("pixie-bench-live-") as work:
        broker, port = servers.mosquitto(work)
        stack = Stack("pixie", work)
        client = None
        try:
            stack.processes.env.update(
                {"PIXIE_MQTT_ENABLED": "1", "PIXIE_MQTT_PORT": str(port), "PIXIE_MQTT_DEVICE": DEVICE}
            )
            stack.start(workers=2)
            start_bridge(stack, port, interval_s)
            client = Client(port)
            stack.request("PUT", f"/api/v1/apps/{APP}", {"content": {"kind": "text", "text": "{{" + TOPIC + "}}"}})
            client.publish(TOPIC, "first", retain=True).wait_for_publish(10)  # there when the bridge subscribes
            wait_for(lambda: stack.v.hget(store.LIVE_VALUES, TOPIC) == b"first", what="the app's first value")
            client.publish(TOPIC, "", retain=True).wait_for_publish(10)  # the broker forgets it
            show(stack, client, "go")
            samples = {"value_to_panel_ms": latency(stack, client, sizes["latency"], interval_s)}
            coalescing = {f"interval {interval_s:g} s": burst(stack, client, sizes["burst_s"], interval_s, "c")}
            start_bridge(stack, port, 0)
            coalescing["interval 0 s"] = burst(stack, client, sizes["burst_s"], 0, "z")
        finally:
            if client:
                client.close()
            stack.stop()
            broker.terminate()
            broker.wait(10)
    figures = summaries(samples)
    report = {"machine": machine(), "sizes": sizes, "figures": figures, "coalescing": coalescing, "samples": samples}
    (args.out / "live.json").write_text(json.dumps(report, indent=2))
    side_by_side(figures, label="live")
    print("baseline: the same text as a text job on MQTT's notify; live: a value on the topic the app shows")
    print(f"{RATE_HZ} values a second for {sizes['burst_s']} s:")
    for name, figure in coalescing.items():
        print(
            f"  {name}: {figure['values']} values, {figure['renders']} renders ({figure['saved']} saved),"
            f" the last value on the panel {figure['last_value_to_panel_ms']} ms after it was sent"
        )
    print(f"wrote {args.out / 'live.json'}")


if __name__ == "__main__":
    main()
