#!/usr/bin/env python3
"""Hostile and busy local clients of portctld, for test_daemon_fair.sh.

hostile_clients.py SOCKET N_HOSTILE N_KEEPALIVE STATS_FILE

Keeps N_HOSTILE connections open at all times, an equal share of each kind:
idle (connect, say nothing), slow readers (pipeline status requests, read
one response a second), oversized requests, garbage, half-closed; plus
N_KEEPALIVE clients that each send one cheap request a second. Whatever
the daemon closes is reconnected at once. Prints "ready" once every client
has connected once; on SIGTERM writes counters to STATS_FILE and exits.
"""
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time

HDR = b"PCTL" + struct.pack(">BBH", 1, 1, 0)
STATUS = HDR + b'{"cmd":"status"}'
VERSION = HDR + b'{"cmd":"version"}'
KINDS = ["idle", "slowread", "oversized", "garbage", "halfclosed"]

path, n_hostile, n_keep, stats_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sel = selectors.DefaultSelector()
stats = {"connects": 0, "connect_retries": 0, "closed_by_daemon": 0, "refusals": 0,
         "keepalive_ok": 0, "keepalive_lost": 0}


class Client:
    def __init__(self, kind):
        self.kind = kind
        self.sock = None
        self.due = 0.0  # next timed action (slow read, keep-alive request)
        self.waiting = False  # keep-alive: a request is out
        self.connected_once = False

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_NONBLOCK)
        try:
            s.connect(path)
        except (BlockingIOError, ConnectionRefusedError, FileNotFoundError):
            s.close()
            stats["connect_retries"] += 1
            return False
        stats["connects"] += 1
        self.sock, self.connected_once, self.waiting = s, True, False
        self.due = time.monotonic() + 1
        try:
            self.start()
        except OSError:
            pass
        if self.kind != "slowread":
            # A slow reader's unread answers would keep it readable: it
            # is read on the clock only (tick).
            sel.register(s, selectors.EVENT_READ, self)
        return True

    def start(self):
        s = self.sock
        if self.kind == "slowread":
            # The daemon answers one at a time; the answers pile up unread.
            for _ in range(300):
                s.send(STATUS)
        elif self.kind == "oversized":
            s.send(HDR + b'{"cmd":"status","args":{"x":"' + b"a" * 100000 + b'"}}')
        elif self.kind == "garbage":
            s.send(os.urandom(2000))
        elif self.kind == "halfclosed":
            s.send(STATUS)
            s.shutdown(socket.SHUT_WR)

    def drop(self):
        if self.kind != "slowread":
            sel.unregister(self.sock)
        self.sock.close()
        self.sock = None
        if self.kind == "keepalive" and self.waiting:
            stats["keepalive_lost"] += 1

    def read_one(self):
        try:
            msg = self.sock.recv(70000)
        except BlockingIOError:
            return
        except OSError:
            msg = b""
        if not msg:
            stats["closed_by_daemon"] += 1
            self.drop()
            self.connect()
            return
        if b'"status": 1' in msg or b'"status":1' in msg:
            stats["refusals"] += 1
        if self.kind == "keepalive" and self.waiting:
            self.waiting = False
            stats["keepalive_ok"] += 1

    def tick(self, now):
        if self.sock is None:
            self.connect()
            return
        if now < self.due:
            return
        self.due = now + 1
        if self.kind == "slowread":
            self.read_one()
        elif self.kind == "keepalive" and not self.waiting:
            try:
                self.sock.send(VERSION)
                self.waiting = True
            except OSError:
                self.drop()


def finish(*_):
    # Exits even if the file cannot be written: the handler runs inside
    # the loop, whose OSError handlers would swallow the error.
    try:
        with open(stats_path, "w") as f:
            json.dump(stats, f)
    finally:
        os._exit(0)


signal.signal(signal.SIGTERM, finish)
clients = [Client(KINDS[i % len(KINDS)]) for i in range(n_hostile)]
clients += [Client("keepalive") for _ in range(n_keep)]
ready = False
last_tick = 0.0
while True:
    for key, _ in sel.select(timeout=0.05):
        if key.data.sock is not None and key.fileobj is key.data.sock:
            key.data.read_one()
    now = time.monotonic()
    if now - last_tick >= 0.05:
        last_tick = now
        for c in clients:
            c.tick(now)
    if not ready and all(c.connected_once for c in clients):
        ready = True
        print("ready", flush=True)
