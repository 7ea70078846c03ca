#!/usr/bin/env python3
"""ft-send.py PORT API TOKEN_FILE CA_FILE: from the controller, send one FlaschenTaschen image (hzeller's
doc/protocols.md: a binary PPM, P6, per UDP datagram; here 2x1 pixels) to 127.0.0.1:PORT, a port QEMU
forwards to the VM's FlaschenTaschen input, once a second until GET API/api/v1/inputs counts one
received (at most 60 s; over HTTPS trusting CA_FILE); print that answer. Standard library only."""

import json
import socket
import ssl
import sys
import time
import urllib.request

port, api, token_file, ca_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
tls = ssl.create_default_context(cafile=ca_file)
token = open(token_file).read().strip()
image = b"P6\n2 1\n255\n" + bytes([255, 0, 0, 0, 0, 255])
deadline, state = time.monotonic() + 60, {}
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
    while time.monotonic() < deadline:
        sender.sendto(image, ("127.0.0.1", port))
        time.sleep(1)
        request = urllib.request.Request(f"{api}/api/v1/inputs", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10, context=tls) as answer:  # noqa: S310 - the test VM's API
            state = json.load(answer)
        if state["flaschen_taschen"]["received"] >= 1:
            print(json.dumps(state))
            sys.exit(0)
sys.exit(f"no FlaschenTaschen datagram counted in 60 s through udp 127.0.0.1:{port}: {json.dumps(state)}")
