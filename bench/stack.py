"""Shared parts of the scale-out benchmarks (bench/scaling.py, bench/payment_notice.py,
bench/broadcast.py): processes on loopback, the production nginx config, the Telegram
emulator with users who already opened the chat, wrk with distinct bodies, and what
/proc says about a process (CPU seconds, resident memory)."""

import asyncio
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.webhook import ROOT, cpu_seconds, milliseconds, start, wait_ready
from tests.nginx.edge import Edge, check_config, configure, listening_ports, nginx_binary

from shopbot.http.serve import free_port

TOKEN = "713713:BENCH-scale_out_token"
SECRET = "bench-webhook-secret-0123456789"  # pragma: allowlist secret
REDIS_URL = "redis://127.0.0.1:6379/13"
"""Database 13 of the shared Redis (issue 13): the benchmarks flush only this one."""
TELEGRAM_LIMIT = "limit_req zone=shopbot_telegram"


def rss_kib(pid: int) -> int:
    """Resident memory of process `pid` in KiB (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (nginx's workers), from /proc/<n>/stat."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs so far, from the `cpu` line of /proc/stat
    (busy: all but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(fields[:8])  # guest time is already inside user and nice
    return total - fields[3] - fields[4], total


def busy_fraction(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How busy the whole machine was between two `machine_ticks()` (0..1): everything
    running on it, other sessions' work included."""
    return (after[0] - before[0]) / max(after[1] - before[1], 1)


def total_cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_emulator(port: int, users: list[range], global_rate: int | None = None):
    """The Telegram emulator (bench/telegram_users.py) in its own process."""
    args = [sys.executable, str(ROOT / "bench" / "telegram_users.py"), "--port", str(port)]
    args += ["--token", TOKEN]
    for block in users:
        args += ["--users", f"{block.start}:{block.stop}"]
    if global_rate is not None:
        args += ["--global-rate", str(global_rate)]
    return start(args, {"LOG_LEVEL": "WARNING"})


async def sent_messages(telegram_url: str) -> list[dict]:
    """Every sendMessage the emulator answered or refused: chat_id, ok, error_code, at
    (the emulator's time.time() when the request arrived), text."""
    async with httpx.AsyncClient(timeout=120) as client:
        answer = await client.get(f"{telegram_url}/sandbox/calls", params={"method": "sendMessage"})
    answer.raise_for_status()
    return [
        {
            "chat_id": int(call["params"]["chat_id"]),
            "ok": call["ok"],
            "error_code": call["error_code"],
            "at": call["at"],
            "text": call["params"].get("text", ""),
        }
        for call in answer.json()
    ]


async def wait_quiet(telegram_url: str, quiet: float = 1.0, limit: float = 60.0) -> None:
    """Waits until the bot made no Bot API call for `quiet` seconds and none is in
    progress (the emulator's GET /sandbox/idle): requests in flight when wrk stopped are
    still handled, and their answers come after."""
    async with httpx.AsyncClient(timeout=limit + 10) as client:
        answer = await client.get(
            f"{telegram_url}/sandbox/idle", params={"timeout": limit, "quiet": quiet}
        )
    if answer.status_code != 200:
        raise RuntimeError(f"the bots kept calling the emulator: {answer.text}")


@dataclass
class Nginx:
    edge: Edge
    process: subprocess.Popen[bytes]

    @property
    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]

    def proxied(self) -> int:
        """Requests to /webhook/telegram the access log holds (answered, or 499 when wrk
        hung up first: nginx still passed them on)."""
        return sum('"uri":"/webhook/telegram"' in line for line in self.edge.access_log)


async def start_nginx(root: Path, app_servers: list[int], webhook_servers: list[int]) -> Nginx:
    """The production edge (deploy/nginx, rendered as the image's entrypoint renders it:
    tests/nginx/edge.py) with the bot instances and webhook services on loopback ports as
    its upstreams. One change: the per-address limit on /webhook/telegram (50 r/s, burst
    200) is taken out, since all load here comes from one address (wrk's) where Telegram
    spreads it over its own handful."""
    edge = configure(
        root,
        {
            "NGINX_APP_SERVERS": ",".join(f"127.0.0.1:{p}" for p in app_servers),
            "NGINX_WEBHOOK_SERVERS": ",".join(f"127.0.0.1:{p}" for p in webhook_servers),
        },
    )
    conf = root / "conf.d" / "default.conf"
    text = conf.read_text()
    if TELEGRAM_LIMIT not in text:
        raise RuntimeError("deploy/nginx changed: no rate limit on /webhook/telegram to lift")
    conf.write_text(re.sub(rf"\n\s*{TELEGRAM_LIMIT}[^\n]*", "", text))
    check_config(root)
    process = start(
        [nginx_binary(), "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
        {},
    )
    for _ in range(400):
        if edge.http_port in listening_ports(process.pid):
            return Nginx(edge, process)
        await asyncio.sleep(0.025)
    stop(process, signal.SIGQUIT)
    raise RuntimeError(f"nginx did not listen:\n{edge.error_log}")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def wrk(url: str, bodies: Path, seconds: int, connections: int) -> WrkResult:
    """wrk -t1 POSTing the lines of `bodies` in order, each once, with Telegram's secret
    token header (bench/telegram_bodies.lua)."""
    output = subprocess.run(
        [
            *("wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"),
            *("-s", str(ROOT / "bench" / "telegram_bodies.lua"), url, "--", str(bodies), SECRET),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: (.*)", output)
    errors = ", ".join(
        part
        for part in (
            f"{non_2xx.group(1)} non-2xx" if non_2xx else "",
            socket.group(1) if socket else "",
        )
        if part
    )
    return WrkResult(
        int(found.group(1)),
        milliseconds(found.group(2) + found.group(3)) / 1000,
        milliseconds(p50.group(1)) if p50 else float("nan"),
        milliseconds(p99.group(1)) if p99 else float("nan"),
        errors or "none",
    )


def flush_redis() -> None:
    """Empties REDIS_URL's database (only the benchmarks' own: dedupe markers, FSM)."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


__all__ = [
    "ROOT",
    "Nginx",
    "cpu_seconds",
    "free_port",
    "start",
    "wait_ready",
]
