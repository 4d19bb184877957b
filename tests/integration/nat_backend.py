#!/usr/bin/env python3
"""A backend for the NAT tests: accepts TCP connections on PORT (IPv4 and
IPv6) and appends each client's address, the one it sees, to FILE."""
import socket
import sys

port, path = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", port))
s.listen(16)
print("ready", flush=True)
while True:
    c, addr = s.accept()
    host = addr[0][7:] if addr[0].startswith("::ffff:") else addr[0]
    with open(path, "a") as f:
        f.write(host + "\n")
    c.close()
