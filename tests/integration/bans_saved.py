#!/usr/bin/env python3
"""The bans portctld saved in STATE (argv[1]): bans.json with the records of
bans.journal replayed over it (a ban or unban made in place is a journal
record until bans.json is next written whole). Prints the bans.json form."""
import json, sys
d = sys.argv[1]
try:
    doc = json.load(open(d + "/bans.json"))
except FileNotFoundError:
    doc = {"version": 1, "bans": []}
bans = doc["bans"]
try:
    lines = open(d + "/bans.journal").read().split("\n")
except FileNotFoundError:
    lines = []
if lines and lines[0] and json.loads(lines[0]).get("generation") == doc.get("generation", 0):
    for line in lines[1:]:
        try:
            r = json.loads(line)
        except ValueError:
            continue
        key = lambda b: (b["address"], b.get("zone") or "", b.get("by") or "")
        old = [b for b in bans if key(b) == key(r)]
        if r["op"] == "unban":
            bans = [b for b in bans if key(b) != key(r)]
        elif old:
            old[0]["expires"] = r["expires"]
        else:
            bans.append({k: v for k, v in r.items() if k != "op"})
doc["bans"] = bans
json.dump(doc, sys.stdout, indent=1)
