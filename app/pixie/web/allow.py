"""ASGI middleware: only clients from the allowed networks get an answer other than 403 (`[web] allow`)."""

import ipaddress

from fastapi.responses import JSONResponse

from .. import config as configuration


class AllowList:
    def __init__(self, app, allow: list[str]):
        self.app = app
        self.networks = configuration.networks(allow)

    def allowed(self, host: str | None) -> bool:
        return within(host, self.networks)

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            host = client[0] if client else None
            if not self.allowed(host):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                reason = f"client {host} is not in the allowed networks ([web] allow)"
                await JSONResponse({"error": reason}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def within(host: str | None, networks) -> bool:
    """Whether a client's address is in one of these networks (an IPv4 client of a dual-stack socket too)."""
    try:
        address = ipaddress.ip_address((host or "").split("%")[0])
    except ValueError:
        return False  # a unix socket or an unknown peer: in none
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)
