#!/usr/bin/env python3
# A long-running TCP connection for the panic and ban tests: "server PORT" echoes
# every byte; "client ADDR PORT FILE" sends a byte every 50 ms and keeps the
# number of echoed bytes in FILE. Both print "ready" once connected.
import os
import socket
import sys
import threading
import time


def server(port):
    # Dual-stack: IPv4 clients arrive as ::ffff:a.b.c.d.
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", port))
    ls.listen(4)
    print("ready", flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def echo(c):
    while True:
        data = c.recv(4096)
        if not data:
            return
        c.sendall(data)


def client(addr, port, path):
    s = socket.create_connection((addr, port), timeout=5)
    s.settimeout(None)
    received = 0
    write_count(path, received)
    print("ready", flush=True)
    threading.Thread(target=sender, args=(s,), daemon=True).start()
    while True:
        data = s.recv(4096)
        if not data:
            return
        received += len(data)
        write_count(path, received)


def sender(s):
    while True:
        s.send(b"x")
        time.sleep(0.05)


def write_count(path, n):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % n)
    os.replace(tmp, path)


if __name__ == "__main__":
    try:
        if sys.argv[1] == "server":
            server(int(sys.argv[2]))
        else:
            client(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    except (OSError, KeyboardInterrupt):
        # The test's cleanup kills the other end first.
        sys.exit(0)
