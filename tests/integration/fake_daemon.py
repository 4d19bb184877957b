#!/usr/bin/env python3
# A stand-in for portctld that answers every request with status 0 and
# MESSAGE, and appends each request's JSON as one line to LOG: for testing
# what the CLI sends. "fake_daemon.py SOCKET LOG MESSAGE"; prints "ready".
import json
import os
import socket
import struct
import sys


def main(path, log, message):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(path)
    s.listen(8)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        data = c.recv(65536)
        if data[:4] == b"PCTL":
            with open(log, "a") as f:
                f.write(data[8:].decode() + "\n")
            body = json.dumps({"status": 0, "message": message}).encode()
            c.send(b"PCTL" + struct.pack("!BBH", 1, 2, 0) + body)
        c.close()


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2], sys.argv[3])
    except KeyboardInterrupt:
        pass
