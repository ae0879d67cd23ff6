#!/usr/bin/env python3
"""Memory of a streamvault binary under two hostile loads, over loopback (no dependencies).

  stalled  150 tus appends that send 512 KiB of a 64 MiB body and then stall: RSS growth
           while they wait.
  logins   1,000 failed logins (each a distinct unknown account, so no per-account lock
           stops the hashing), 64 in flight: peak RSS.

Usage: bench/memory_bench.py --bin PATH [--bin PATH ...] [--runs N]
Each binary serves `api,stream` from a scratch directory with its defaults (SQLite, local
blobs); settings that older binaries do not know are ignored by them.
"""

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

STALLED = 150
LOGINS = 1000
IN_FLIGHT = 64


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def http(host, port, method, path, headers=None, body=b""):
    """One HTTP/1.1 request on its own connection; returns (status, headers, body)."""
    r, w = await asyncio.open_connection(host, port)
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
            f"Content-Length: {len(body)}"]
    for k, v in (headers or {}).items():
        head.append(f"{k}: {v}")
    w.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await w.drain()
    data = await r.read()
    w.close()
    text_head, _, rest = data.partition(b"\r\n\r\n")
    lines = text_head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, rest


class Server:
    def __init__(self, binary, env):
        self.dir = tempfile.TemporaryDirectory()
        full = dict(os.environ, STREAMVAULT_LOG="warn", **env)
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--roles", "api,stream"],
            cwd=self.dir.name, env=full, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        url = re.search(r"http://[\d.]+:\d+", line).group(0)
        self.host, port = url[len("http://"):].split(":")
        self.port = int(port)

    def rss(self):
        return rss_kib(self.proc.pid)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.dir.cleanup()

    async def signup(self):
        name = "m" + uuid.uuid4().hex[:12]
        body = json.dumps({"user_name": name, "pwd": "correct horse battery"}).encode()
        status, _, data = await http(self.host, self.port, "POST", "/user", {"Content-Type": "application/json"}, body)
        assert status == 201, (status, data)
        return json.loads(data)["session_id"]


async def stalled(binary):
    srv = Server(binary, {"STREAMVAULT_READ_TIMEOUT_SECS": "120"})
    try:
        token = await srv.signup()
        auth = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {token}"}
        urls = []
        for _ in range(STALLED):
            status, hdrs, _ = await http(srv.host, srv.port, "POST", "/stream/v1/tus/",
                                         dict(auth, **{"Upload-Length": str(64 << 20)}))
            assert status == 201, status
            urls.append(hdrs["location"])
        await asyncio.sleep(0.5)
        base = srv.rss()
        conns = []
        for url in urls:
            r, w = await asyncio.open_connection(srv.host, srv.port)
            head = (f"PATCH {url} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n"
                    f"Authorization: Bearer {token}\r\nUpload-Offset: 0\r\n"
                    "Content-Type: application/offset+octet-stream\r\n"
                    f"Content-Length: {64 << 20}\r\n\r\n")
            w.write(head.encode() + b"\x07" * (512 << 10))
            await w.drain()
            conns.append((r, w))
        await asyncio.sleep(2)
        peak = 0
        for _ in range(8):
            peak = max(peak, srv.rss())
            await asyncio.sleep(0.25)
        for _, w in conns:
            w.close()
        return base, peak
    finally:
        srv.stop()


async def logins(binary):
    srv = Server(binary, {"STREAMVAULT_LOGIN_MAX_FAILURES": "100000",
                          "STREAMVAULT_LOGIN_IP_MAX_FAILURES": "100000"})
    try:
        await srv.signup()
        base = srv.rss()
        peak = base
        sem = asyncio.Semaphore(IN_FLIGHT)

        async def one():
            nonlocal peak
            name = "nobody" + uuid.uuid4().hex[:10]
            body = json.dumps({"user_name": name, "pwd": "wrong password"}).encode()
            async with sem:
                status, _, _ = await http(srv.host, srv.port, "POST", f"/user/{name}",
                                          {"Content-Type": "application/json"}, body)
                peak = max(peak, srv.rss())
                return status

        started = time.monotonic()
        statuses = await asyncio.gather(*(one() for _ in range(LOGINS)))
        took = time.monotonic() - started
        assert all(s == 401 for s in statuses), set(statuses)
        await asyncio.sleep(1)
        return base, peak, srv.rss(), took
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", action="append", required=True)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    print(f"| binary | stalled: baseline MiB | stalled: peak MiB | growth MiB ({STALLED} stalled) "
          f"| logins: peak MiB | after MiB | {LOGINS} logins s |")
    print("|---|---|---|---|---|---|---|")
    for _ in range(args.runs):
        for b in args.bin:
            sb, sp = asyncio.run(stalled(b))
            lb, lp, le, took = asyncio.run(logins(b))
            print(f"| {b} | {sb // 1024} | {sp // 1024} | {(sp - sb) // 1024} | {lp // 1024} | "
                  f"{le // 1024} | {took:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
