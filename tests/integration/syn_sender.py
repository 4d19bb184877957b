#!/usr/bin/env python3
# SYNs from a raw socket for the install-difference test: "SRC DST RATE
# PORT..." sends one TCP SYN a tick to each PORT of DST, RATE ticks a
# second, each from a new source port and only once (no retransmission),
# until SIGTERM. Prints "ready" first. What was sent and what came back is
# counted by nft in the sender's namespace.
import signal
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(src, dst, sport, dport):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, sport * 7919, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr))
    return hdr[:16] + struct.pack("!H", checksum(pseudo + hdr)) + hdr[18:]


def main():
    src, dst, rate, ports = sys.argv[1], sys.argv[2], float(sys.argv[3]), [int(p) for p in sys.argv[4:]]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    print("ready", flush=True)
    tick, sport, t = 1.0 / rate, 0, time.monotonic()
    while not stop:
        for p in ports:
            s.sendto(syn(src, dst, 20000 + sport, p), (dst, 0))
        sport = (sport + 1) % 40000
        t += tick
        d = t - time.monotonic()
        if d > 0:
            time.sleep(d)
        elif d < -10 * tick:
            t = time.monotonic()  # late (a loaded machine): no burst to catch up


main()
