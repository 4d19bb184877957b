#!/usr/bin/env python3
# ICMP echo for the integration tests (the machines have no ping):
# "ping.py ADDR TIMEOUT_MS" sends one echo request over a raw socket and
# prints "reply" when the matching echo reply arrives in time, else "timeout".
import os
import select
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main(addr, timeout_ms):
    v6 = ":" in addr
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        req_type, rep_type = 128, 129
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        req_type, rep_type = 8, 0
    ident = os.getpid() & 0xFFFF
    payload = b"portctl-ping"
    header = struct.pack("!BBHHH", req_type, 0, 0, ident, 1)
    # The kernel fills in the ICMPv6 checksum (it needs the addresses).
    csum = 0 if v6 else checksum(header + payload)
    s.sendto(struct.pack("!BBHHH", req_type, 0, csum, ident, 1) + payload, (addr, 0))
    deadline = time.monotonic() + timeout_ms / 1000.0
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            print("timeout")
            return
        data, _ = s.recvfrom(2048)
        # A raw IPv4 socket hands over the IP header too.
        icmp = data if v6 else data[(data[0] & 0x0F) * 4:]
        if len(icmp) >= 8:
            t, _, _, i, _ = struct.unpack("!BBHHH", icmp[:8])
            if t == rep_type and i == ident:
                print("reply")
                return


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
