#!/usr/bin/env python3
"""Random configurations and probes for test_explain_kernel.sh.

  explain_gen.py config SEED N   print configuration N of run SEED (a rules file)
  explain_gen.py probes SEED N   print its probes, one per line:
                                 PEER PROTO SRC DST IFACE PORT
  explain_gen.py serve           in a peer namespace: read probes (PROTO SRC DST
                                 PORT a line) until "go MS", send them at once,
                                 wait MS milliseconds, print "refused" or "quiet"
                                 for each, then "end"; again until end of input
  explain_gen.py run SEED CONFIGS PROBES   the whole differential test; the
                                 environment names the programs and namespaces
                                 (see test_explain_kernel.sh)
Same SEED and N, same output: a failure is replayed with PORTCTL_SEED=SEED.
"""
import errno
import json
import os
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor
import select
import socket
import sys
import time

# The test's topology: the firewall namespace "fw" reaches peer "pa" over
# vha (10.99.1.0/24, fd99:1::/64) and peer "pb" over vhb (10.99.2.0/24,
# fd99:2::/64). Each peer holds several addresses, so zone sources and
# "from" rules pick among them.
PEERS = {
    "pa": {"iface": "vha", "dst4": "10.99.1.1", "dst6": "fd99:1::1",
           "src": ["10.99.1.2", "10.99.1.66", "10.99.1.130", "fd99:1::2", "fd99:1::66"]},
    "pb": {"iface": "vhb", "dst4": "10.99.2.1", "dst6": "fd99:2::1",
           "src": ["10.99.2.2", "10.99.2.66", "10.99.2.200", "fd99:2::2", "fd99:2::ab"]},
}
# Zone sources, nested at will (the longest prefix wins) but each given to
# one zone only. Every probe comes from its own peer's link, so the
# reverse-path check passes, as explain assumes.
ZONE_PREFIXES = ["10.99.1.0/26", "10.99.1.64/26", "10.99.1.128/25", "10.99.2.0/25",
                 "10.99.2.128/25", "fd99:1::/126", "fd99:1::40/122", "fd99:2::/120",
                 "10.99.0.0/16", "10.99.2.0/24", "fd99::/16", "fd99:1::/64"]
# For "from": hosts and prefixes, overlapping at will.
FROM_ADDRS = ["10.99.1.2", "10.99.1.66", "10.99.2.0/24", "10.99.1.0/24", "10.99.2.200",
              "fd99:1::2", "fd99:2::/64", "fd99:1::66", "10.0.0.0/8", "fd99::/16",
              "192.0.2.1", "2001:db8::/32"]
SERVICES = {"ssh": [(22, "tcp")], "http": [(80, "tcp")], "https": [(443, "tcp")],
            "dns": [(53, "tcp"), (53, "udp")], "ntp": [(123, "udp")],
            "mdns": [(5353, "udp")], "http3": [(443, "udp")]}
ZONES = ["public", "internal", "dmz", "trusted", "block", "zone1", "zone2"]
SHIPPED_POLICY = {"public": "drop", "internal": "drop", "dmz": "drop",
                  "trusted": "accept", "block": "reject"}
PORT_POOL = [22, 25, 53, 80, 123, 443, 1000, 1001, 2000, 5353, 8080, 8443, 9000, 9050,
             9100, 30000, 40000, 60000]


def rng_for(seed, n):
    return random.Random(seed * 1000003 + n)


def port_item(r, ports):
    """One target item as written, and the (port range, protos) it covers."""
    lo = r.choice(PORT_POOL)
    if r.random() < 0.3:
        hi = lo + r.choice([1, 5, 100, 1000])
        text = "%d-%d" % (lo, min(hi, 65535))
        rng = (lo, min(hi, 65535))
    else:
        text, rng = str(lo), (lo, lo)
    proto = r.choice(["/tcp", "/udp", ""])
    ports.append(rng)
    return text + proto


def gen_config(seed, n):
    r = rng_for(seed, n)
    lines = []
    used_ifaces, used_prefixes = set(), set()
    zones = r.sample(ZONES, r.randint(1, 4))
    has_default = False
    for z in zones:
        words = ["zone", z]
        if r.random() < 0.5:
            free = [i for i in ("vha", "vhb") if i not in used_ifaces]
            if free:
                i = r.choice(free)
                used_ifaces.add(i)
                words += ["interface", i]
        if r.random() < 0.5:
            free = [p for p in ZONE_PREFIXES if p not in used_prefixes]
            pick = r.sample(free, min(len(free), r.randint(1, 2)))
            used_prefixes.update(pick)
            words += ["source", ",".join(pick)]
        if r.random() < 0.6:
            words += ["policy", "in", r.choice(["accept", "drop", "reject"])]
        elif z in SHIPPED_POLICY:
            words += ["policy", "in", SHIPPED_POLICY[z]]
        if r.random() < 0.4:
            words += ["policy", "out", r.choice(["accept", "drop"])]
        if not has_default and (z == "public" or r.random() < 0.25):
            words.append("default")
            has_default = True
        lines.append(" ".join(words))
    if not has_default and "public" in zones:
        lines[zones.index("public")] += " default"
    known = zones + [z for z in SHIPPED_POLICY if z not in zones]
    for _ in range(r.randint(2, 10)):
        action = r.choice(["allow", "allow", "deny", "reject"])
        words = [action]
        out = r.random() < 0.15
        if out:
            words.append("out")
        elif r.random() < 0.2:
            words.append("in")
        kind = r.random()
        ports = []
        if kind < 0.6:
            words.append(",".join(port_item(r, ports) for _ in range(r.randint(1, 3))))
        elif kind < 0.8:
            words.append(r.choice(sorted(SERVICES)))
        has_from = kind >= 0.8 or r.random() < 0.3
        if has_from:
            fam = r.choice([4, 6])
            pool = [a for a in FROM_ADDRS if (":" in a) == (fam == 6)]
            words += ["from", ",".join(r.sample(pool, r.randint(1, 2)))]
            # Toward one of this machine's addresses or its network (rules
            # of a port in a row: a run toward destinations).
            if not out and r.random() < 0.4:
                peer = PEERS[r.choice(sorted(PEERS))]
                dst = peer["dst6"] if fam == 6 else peer["dst4"]
                if r.random() < 0.5:
                    dst = dst.rsplit(":", 1)[0] + ":/64" if fam == 6 else dst.rsplit(".", 1)[0] + ".0/24"
                words += ["to", dst]
        if r.random() < 0.4:
            words += ["zone", ",".join(r.sample(known, r.randint(1, 2)))]
        if r.random() < 0.1:
            words += ["comment", '"rule %d"' % len(lines)]
        lines.append(" ".join(words))
    # Now and then rules of a port and sources toward networks in a row: a
    # run toward networks (each network in its set elements), among the
    # rules above or after them; of one length, or of one verdict toward a
    # network and one around it (10.99.0.0/16, fd99::/16).
    if r.random() < 0.5:
        fam = r.choice([4, 6])
        pool = [a for a in FROM_ADDRS if (":" in a) == (fam == 6)]
        at = r.randint(len(zones), len(lines))
        # Nested networks: of one verdict (their lookups commute, one run)
        # or of several (runs of one verdict each); often of one port, so
        # that a packet meets rules of both.
        nest = r.random() < 0.5
        nest_action = r.choice(["allow", "allow", "deny", "reject", None])
        run_port = (r.choice(PORT_POOL), r.choice(["/tcp", "/udp"])) if r.random() < 0.6 else None
        # Dual stack: toward a destination of each family, from sources of
        # both (or of IPv4 alone: its IPv6 destination reached by none);
        # hosts or networks.
        dual = r.random() < 0.4
        for _ in range(r.randint(2, 4)):
            peer = PEERS[r.choice(sorted(PEERS))]
            action = r.choice(["allow", "allow", "deny", "reject"])
            if nest and nest_action:
                action = nest_action
            port, proto = run_port or (r.choice(PORT_POOL), r.choice(["/tcp", "/udp"]))
            dst = peer["dst6"] if fam == 6 else peer["dst4"]
            dst = dst.rsplit(":", 1)[0] + ":/64" if fam == 6 else dst.rsplit(".", 1)[0] + ".0/24"
            if nest and r.random() < 0.5:
                dst = "fd99::/16" if fam == 6 else "10.99.0.0/16"
            src = ",".join(r.sample(pool, r.randint(1, 2)))
            if dual:
                d4, d6 = peer["dst4"], peer["dst6"]
                if r.random() < 0.5:
                    d4 = d4.rsplit(".", 1)[0] + ".0/24"
                if r.random() < 0.5:
                    d6 = d6.rsplit(":", 1)[0] + ":/64"
                dst = d4 + "," + d6
                src = ",".join([r.choice([a for a in FROM_ADDRS if ":" not in a])] +
                               ([r.choice([a for a in FROM_ADDRS if ":" in a])]
                                if r.random() < 0.7 else []))
            lines.insert(at, "%s %d%s from %s to %s" % (action, port, proto, src, dst))
    lines += gen_forwards(seed, n, known)
    return lines


# Forwards DNAT to an address behind the firewall's link vhc, where
# the counting table's forward chain records them (by the port the client
# connected to) as accepted. Their own random stream keeps the rules of a
# seed what they were before forwards were generated.
FWD_DESTS = ["10.99.3.2", "10.99.3.2:9999", "[fd99:3::2]:80", "fd99:3::2"]


def gen_forwards(seed, n, known):
    r = rng_for(seed, n + 900000)
    lines = []
    for _ in range(r.choice([0, 0, 1, 2])):
        dest = r.choice(FWD_DESTS)
        v6 = dest.count(":") > 1
        words = ["forward", ",".join(port_item(r, []) for _ in range(r.randint(1, 2))),
                 "to", dest]
        if r.random() < 0.3:
            pool = [a for a in FROM_ADDRS if (":" in a) == v6]
            words += ["from", ",".join(r.sample(pool, r.randint(1, 2)))]
        if r.random() < 0.4:
            words += ["zone", ",".join(r.sample(known, r.randint(1, 2)))]
        lines.append(" ".join(words))
    return lines


def gen_probes(seed, n, count):
    r = rng_for(seed, n + 500000)
    cfg = gen_config(seed, n)
    ports = set(PORT_POOL)
    for line in cfg:
        for w in line.replace(",", " ").split():
            w = w.split("/")[0]
            if "-" in w and w.replace("-", "").isdigit():
                lo, hi = (int(x) for x in w.split("-"))
                ports.update((lo, hi, min(hi + 1, 65535), max(lo - 1, 1)))
            elif w.isdigit():
                ports.add(int(w))
    ports = sorted(p for p in ports if 0 < p < 65536)
    out = []
    for _ in range(count):
        peer = r.choice(sorted(PEERS))
        p = PEERS[peer]
        src = r.choice(p["src"])
        dst = p["dst6"] if ":" in src else p["dst4"]
        out.append("%s %s %s %s %s %d" % (peer, r.choice(["tcp", "udp"]), src, dst,
                                          p["iface"], r.choice(ports)))
    return out


def send(lines, wait_ms):
    """Send every probe at once; a refusal (TCP reset, ICMP unreachable)
    arrives within the wait, silence means dropped or accepted (the
    firewall side tells those apart with its counting table)."""
    probes, socks = [], []
    for line in lines:
        proto, src, dst, port = line.split()
        fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(fam, kind)
        s.setblocking(False)
        s.bind((src, 0))
        try:
            s.connect((dst, int(port)))
        except BlockingIOError:
            pass
        if kind == socket.SOCK_DGRAM:
            s.send(b"probe")
        probes.append((proto, s))
        socks.append(s)
    deadline = time.monotonic() + wait_ms / 1000.0
    result = ["quiet"] * len(probes)
    pending = set(range(len(probes)))
    while pending and time.monotonic() < deadline:
        left = max(0.0, deadline - time.monotonic())
        rl = [probes[i][1] for i in pending if probes[i][0] == "udp"]
        wl = [probes[i][1] for i in pending if probes[i][0] == "tcp"]
        r, w, _ = select.select(rl, wl, [], left)
        for i in list(pending):
            proto, s = probes[i]
            if s in r or s in w:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if proto == "udp" and err == 0:
                    try:
                        s.recv(16)
                    except OSError as e:
                        err = e.errno
                if err == errno.ECONNREFUSED:
                    result[i] = "refused"
                elif err == 0 and proto == "tcp":
                    result[i] = "connected"
                pending.discard(i)
    for s in socks:
        s.close()
    return result


def serve():
    """Stay in the peer namespace for the whole run (python starts slowly):
    read probes a line each, then "go MS"; answer one result a line, then "end"."""
    lines = []
    for line in sys.stdin:
        if line.startswith("go "):
            for res in send(lines, int(line.split()[1])):
                print(res)
            print("end", flush=True)
            lines = []
        elif line.strip():
            lines.append(line)


def netns(ns, *cmd, **kw):
    return subprocess.run(["nsenter", "--net=/run/netns/" + ns] + list(cmd), check=True,
                          stdout=subprocess.PIPE, universal_newlines=True, **kw).stdout


def seen_keys(fw):
    """(source, proto, port) of every packet portctl's chains let through
    to the counting chain behind them; the sets are emptied for the next."""
    keys = set()
    doc = json.loads(netns(fw, "nft", "-j", "list", "table", "inet", "probe"))
    for item in doc["nftables"]:
        for elem in item.get("set", {}).get("elem", []):
            c = elem["elem"]["val"]["concat"] if "elem" in elem else elem["concat"]
            keys.add((str(c[0]), str(c[1]), int(c[2])))
    netns(fw, "nft", "flush set inet probe seen4; flush set inet probe seen6")
    return keys


def explain(env, proto, src, dst, iface, port):
    out = subprocess.run([env["PORTCTL"], "-c", env["CONFIG"], "-d", env["DATA"], "explain",
                          "--offline", "--json", "in", proto, str(port), "from", src, "to",
                          dst, "on", iface], check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    return json.loads(out)["data"]


def run_one(env, seed, n, n_probes, senders, tally):
    cfg = gen_config(seed, n)
    with open(os.path.join(env["CONFIG"], "rules.d", "10-gen.rules"), "w") as f:
        f.write("\n".join(cfg) + "\n")
    t0 = time.monotonic()
    apply = subprocess.run(["nsenter", "--net=/run/netns/" + env["FW"], env["PORTCTLD"], "--apply-once",
                            "--config", env["CONFIG"], "--data-dir", env["DATA"],
                            "--state-dir", env["STATE"]], stderr=subprocess.PIPE,
                           universal_newlines=True)
    if apply.returncode != 0:
        sys.exit("config %d of seed %d did not apply:\n%s\n%s" % (n, seed, "\n".join(cfg),
                                                                 apply.stderr))
    t1 = time.monotonic()
    probes = [line.split() for line in gen_probes(seed, n, n_probes)]
    # explain needs no kernel: ask it while the probes travel.
    pool = ThreadPoolExecutor(max_workers=4)
    asked = [pool.submit(explain, env, p[1], p[2], p[3], p[4], p[5]) for p in probes]
    t2 = time.monotonic()
    refused = {}
    for peer, proc in senders.items():
        mine = [p for p in probes if p[0] == peer]
        proc.stdin.write("".join("%s %s %s %s\n" % (p[1], p[2], p[3], p[5]) for p in mine))
        proc.stdin.write("go %s\n" % env.get("WAIT_MS", "250"))
        proc.stdin.flush()
    for peer, proc in senders.items():
        mine = [p for p in probes if p[0] == peer]
        out = [proc.stdout.readline().strip() for _ in mine]
        if proc.stdout.readline().strip() != "end" or "" in out:
            sys.exit("probe sender in %s failed" % peer)
        for p, res in zip(mine, out):
            refused[tuple(p)] = res
    t3 = time.monotonic()
    seen = seen_keys(env["FW"])
    answers = [f.result() for f in asked]
    pool.shutdown()
    if env.get("PORTCTL_TIMES"):
        print("apply %.3f probes %.3f send %.3f read+explain %.3f" % (
            t1 - t0, t2 - t1, t3 - t2, time.monotonic() - t3), file=sys.stderr)
    bad = 0
    for p, a in zip(probes, answers):
        peer, proto, src, dst, iface, port = p
        key = (str(src), proto, int(port))
        kernel = "accept" if key in seen else "reject" if refused[tuple(p)] == "refused" \
            else "drop"
        if refused[tuple(p)] == "connected":
            kernel = "connected?"
        tally[kernel] = tally.get(kernel, 0) + 1
        if a["verdict"] != kernel:
            bad += 1
            rule = a.get("rule") or {}
            print("DISAGREE seed %d config %d: in %s %s from %s to %s on %s: kernel %s, "
                  "explain %s (zone %s by %s, %s)" % (
                      seed, n, proto, port, src, dst, iface, kernel, a["verdict"], a["zone"],
                      a["zone_reason"], rule.get("text", "policy")))
    if bad:
        print("config %d:\n  %s" % (n, "\n  ".join(cfg)))
    return len(probes), bad


def run(seed, n_configs, n_probes):
    env = os.environ
    me = os.path.abspath(__file__)
    total = bad = 0
    tally = {}
    senders = {peer: subprocess.Popen(
        ["nsenter", "--net=/run/netns/" + env["NS_" + peer], sys.executable, me, "serve"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
        for peer in PEERS}
    for n in range(n_configs):
        t, b = run_one(env, seed, n, n_probes, senders, tally)
        total += t
        bad += b
    for proc in senders.values():
        proc.stdin.close()
        proc.wait()
    print("seed %d: %d configurations, %d probes (kernel: %s), %d disagreements" % (
        seed, n_configs, total, ", ".join("%s %d" % kv for kv in sorted(tally.items())), bad))
    # A run where the kernel gave one verdict only would compare nothing.
    sys.exit(1 if bad or len(tally) < 3 else 0)


def main():
    if sys.argv[1] == "config":
        print("\n".join(gen_config(int(sys.argv[2]), int(sys.argv[3]))))
    elif sys.argv[1] == "probes":
        print("\n".join(gen_probes(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))))
    elif sys.argv[1] == "run":
        run(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "serve":
        serve()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
