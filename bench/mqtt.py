"""`python -m bench.mqtt`: MQTT's front door against HTTP's, on one appliance.

One appliance (web, two `rq worker`s, the display on the headless STAND-IN
panel that records every frame and its swap time, the MQTT bridge) and a
real mosquitto on loopback. Each figure beside its baseline, same run:

- publish → first frame, in ms: a QoS 1 `notify` on `pixie/<device>/notify`,
  against `POST /api/v1/jobs` of the same kind of text (sample by sample,
  alternating, new text each time);
- recovery after a broker restart, in ms: from the broker taking
  connections again to the first frame of a command published at that
  moment (the bridge's reconnect, its subscriptions, the job), against the
  same command published to a broker that never went away;
- memory (PSS, MB): the bridge and the broker, against the HTTP front door
  (pixie-web).
"""

import json
import time

from pixie import config as configuration
from pixie import spec
from pixie.render import kinds
from testsupport import servers
from testsupport.mqtt import Client

from .harness import Stack, _memory, cli, machine, side_by_side, summaries, workdir

SIZES = {"full": {"latency": 200, "restarts": 5}, "smoke": {"latency": 3, "restarts": 1}}
DEVICE = "bench"


def expected(job: dict) -> bytes:
    panel, limits = configuration.Panel(), configuration.Render()
    return kinds.render(spec.parse(job), None, panel.width, panel.height, limits)[0][0]


def latency(stack: Stack, client: Client, n: int, nonce: str) -> dict[str, list[float]]:
    samples = {"baseline": [], "pixie": []}
    for i in range(n):
        for door in samples:
            job = {"kind": "text", "text": f"{nonce}{door[0]}{i}", "duration_s": 0.05}
            if door == "baseline":
                t0, _ = stack.post(job)
            else:
                t0 = time.time_ns()
                client.publish(f"pixie/{DEVICE}/notify", job)
            shown = stack.first_frame_after(t0, expected(job))
            samples[door].append((shown - t0) / 1e6)
            stack.drain()
    return samples


def recovery(stack: Stack, work, port: int, broker, n: int, nonce: str):
    """(samples per configuration, the broker process now running)."""
    samples = {"baseline": [], "pixie": []}
    for i in range(n):
        for door in samples:
            if door == "pixie":
                broker.terminate()
                broker.wait(10)
                broker, _ = servers.mosquitto(work, port=port)
            t0 = time.time_ns()  # the broker takes connections from here on
            client = Client(port)
            job = {"kind": "text", "text": f"{nonce}r{door[0]}{i}", "duration_s": 0.05}
            client.publish(f"pixie/{DEVICE}/notify", job)
            shown = stack.first_frame_after(t0, expected(job))
            samples[door].append((shown - t0) / 1e6)
            client.close()
            stack.drain()
    return samples, broker


def main() -> None:
    args = cli(__doc__)
    sizes = SIZES["smoke" if args.smoke else "full"]
    nonce = f"{args.seed:x}"
    with workdir("pixie-bench-mqtt-") as work:
        broker, port = servers.mosquitto(work)
        stack = Stack("pixie", work)
        client = None
        try:
            stack.processes.env.update(
                {"PIXIE_MQTT_ENABLED": "1", "PIXIE_MQTT_PORT": str(port), "PIXIE_MQTT_DEVICE": DEVICE}
            )
            stack.start(workers=2)
            stack.processes.start("mqtt", "pixie-mqtt")
            client = Client(port, f"pixie/{DEVICE}/availability")
            client.wait(lambda: client.on(f"pixie/{DEVICE}/availability"), "the bridge online")
            samples = {"publish_to_panel_ms": latency(stack, client, sizes["latency"], nonce)}
            client.close()
            client = None
            parts = {
                "pixie-mqtt": _memory(stack.processes.procs["mqtt"].pid)["pss_mb"],
                "mosquitto": _memory(broker.pid)["pss_mb"],
            }
            memory = {
                "baseline": _memory(stack.processes.procs["web"].pid)["pss_mb"],
                "pixie": round(sum(parts.values()), 1),
            }
            samples["broker_restart_to_panel_ms"], broker = recovery(
                stack, work, port, broker, sizes["restarts"], nonce
            )
        finally:
            if client:
                client.close()
            stack.stop()
            broker.terminate()
            broker.wait(10)
    figures = summaries(samples)
    report = {
        "machine": machine(),
        "sizes": sizes,
        "figures": figures,
        "pss_mb": memory,
        "pss_mb_parts": parts,
        "samples": samples,
    }
    (args.out / "mqtt.json").write_text(json.dumps(report, indent=2))
    side_by_side(figures, ("PSS, MB", memory), label="mqtt")
    print(f"{'':<28}{'':>17}{'':>9}{'  = ' + ' + '.join(f'{n} {mb}' for n, mb in parts.items())}")
    print("baseline: HTTP POST (publish), a broker that stays up (restart), pixie-web (PSS);")
    print("mqtt: a QoS 1 notify, a broker just restarted, pixie-mqtt + mosquitto")
    print(f"wrote {args.out / 'mqtt.json'}")


if __name__ == "__main__":
    main()
