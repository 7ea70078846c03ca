"""The appliance as a whole through the service in-process: its health."""


def test_health_needs_a_worker_and_a_fresh_display_heartbeat(service):
    assert service.system.health() == {"ok": False, "redis": True, "workers": 0, "display_heartbeat_age_s": None}
