"""deploy/nginx run on loopback by the real nginx, configured the way the official nginx
image's entrypoint configures it: /docker-entrypoint.d/15-shopbot-nginx.envsh sourced
by `sh -e`, then every templates/**/*.template put through `envsubst` restricted to the
names of the defined variables (what 20-envsubst-on-templates.sh does), inside an
nginx.conf of the image's shape (an `http {}` that includes conf.d/*.conf)."""

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from shopbot.http.serve import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
ENVSH = DEPLOY / "docker-entrypoint.d" / "15-shopbot-nginx.envsh"
TEMPLATES = DEPLOY / "templates"
DOMAIN = "shop.example.test"

# The official image's /etc/nginx/nginx.conf, with every path moved under the test's
# directory (pid, logs, temp files) so nginx runs unprivileged on loopback.
NGINX_CONF = """{user}
worker_processes auto;
error_log {root}/logs/error.log notice;
pid {root}/nginx.pid;

events {{
    worker_connections 1024;
}}

http {{
    default_type application/octet-stream;
    access_log {root}/logs/http.log;
    sendfile on;
    keepalive_timeout 65;
    client_body_temp_path {root}/temp/client_body;
    proxy_temp_path {root}/temp/proxy;
    fastcgi_temp_path {root}/temp/fastcgi;
    uwsgi_temp_path {root}/temp/uwsgi;
    scgi_temp_path {root}/temp/scgi;
    include {root}/conf.d/*.conf;
}}
"""


class EntrypointFailed(Exception):
    """The entrypoint script refused the environment; str() is its stderr."""


def nginx_binary() -> str:
    """The nginx executable (Debian's `nginx` 1.22, installed by scripts/ensure-services.sh)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found is None:
        raise RuntimeError("nginx is not installed: run scripts/ensure-services.sh")
    return found


def entrypoint_environment(variables: Mapping[str, str]) -> dict[str, str]:
    """The environment after sourcing 15-shopbot-nginx.envsh under `sh -e`, as the
    image's /docker-entrypoint.sh sources it. Raises EntrypointFailed when it exits non-0."""
    env = {"PATH": os.environ["PATH"], **variables}
    done = subprocess.run(
        ["sh", "-ec", '. "$0" >&2; env -0', str(ENVSH)],
        env=env,
        capture_output=True,
        timeout=10,
    )
    if done.returncode != 0:
        raise EntrypointFailed(done.stderr.decode())
    pairs = (entry.split(b"=", 1) for entry in done.stdout.split(b"\0") if entry)
    return {name.decode(): value.decode() for name, value in pairs}


def render_templates(env: Mapping[str, str], output_dir: Path) -> list[Path]:
    """Every TEMPLATES/**/*.template to output_dir/<same path without .template>, through
    `envsubst '${NAME} ...'` listing every defined variable: undefined ones stay as
    written, and nginx's own `$host` etc. are untouched unless such a variable exists."""
    defined = " ".join(f"${{{name}}}" for name in env)
    written = []
    for template in sorted(TEMPLATES.rglob("*.template")):
        target = output_dir / template.relative_to(TEMPLATES).with_suffix("")
        target.parent.mkdir(parents=True, exist_ok=True)
        rendered = subprocess.run(
            ["envsubst", defined],
            input=template.read_bytes(),
            env=dict(env),
            capture_output=True,
            check=True,
            timeout=10,
        ).stdout
        target.write_bytes(rendered)
        written.append(target)
    return written


@dataclass(frozen=True)
class Edge:
    root: Path
    http_port: int
    https_port: int
    status_port: int
    pid: int = 0  # the nginx master's, once running_edge has started it

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def status(self) -> str:
        return f"http://127.0.0.1:{self.status_port}"

    @property
    def error_log(self) -> str:
        return (self.root / "logs" / "error.log").read_text()

    @property
    def access_log(self) -> list[str]:
        return (self.root / "logs" / "access.log").read_text().splitlines()


def configure(root: Path, variables: Mapping[str, str]) -> Edge:
    """Lays out root (conf.d, certs, logs, temp), renders the templates with `variables`
    on top of loopback listen addresses and test paths, writes nginx.conf and runs
    `nginx -t` on it. Raises EntrypointFailed or subprocess.CalledProcessError."""
    for name in ("conf.d", "certs", "logs", "temp"):
        (root / name).mkdir(parents=True, exist_ok=True)
    edge = Edge(root, free_port(), free_port(), free_port())
    env = entrypoint_environment(
        {
            "NGINX_HTTP_LISTEN": f"127.0.0.1:{edge.http_port}",
            "NGINX_HTTPS_LISTEN": f"127.0.0.1:{edge.https_port}",
            "NGINX_STATUS_LISTEN": f"127.0.0.1:{edge.status_port}",
            "NGINX_ENVSUBST_OUTPUT_DIR": str(root / "conf.d"),
            "NGINX_TLS_DIR": str(root / "certs"),
            "NGINX_ACCESS_LOG": str(root / "logs" / "access.log"),
            "PRODUCTION_DOMAIN": DOMAIN,
            **variables,
        }
    )
    render_templates(env, root / "conf.d")
    # As root the workers would otherwise drop to `nobody`, who cannot enter pytest's
    # private temporary directories.
    user = "user root;" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(NGINX_CONF.format(user=user, root=root))
    check_config(root)
    return edge


def check_config(root: Path) -> str:
    """`nginx -t` on root/nginx.conf; returns its output, raises CalledProcessError."""
    done = subprocess.run(
        [nginx_binary(), "-t", "-p", str(root), "-c", str(root / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout, done.stderr)
    return done.stderr


def listening_ports(pid: int) -> set[int]:
    """TCP ports process `pid` itself has listening sockets on (IPv4 and IPv6), read from
    /proc (Linux): its socket inodes in /proc/<pid>/fd matched against the LISTEN rows
    (state 0A) of /proc/net/tcp{,6}. Unlike connecting to a port, this cannot mistake
    another process that happens to hold the port for nginx."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed between listing and reading
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


@asynccontextmanager
async def running_edge(root: Path, variables: Mapping[str, str]) -> AsyncIterator[Edge]:
    """nginx serving `configure(root, variables)` in the foreground (`daemon off`, as the
    image's CMD) until the block exits; then SIGQUIT (the image's STOPSIGNAL)."""
    edge = configure(root, variables)
    process = await asyncio.create_subprocess_exec(
        nginx_binary(),
        "-p",
        str(root),
        "-c",
        str(root / "nginx.conf"),
        "-g",
        "daemon off;",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            if process.returncode is not None:
                raise RuntimeError(f"nginx exited {process.returncode}:\n{edge.error_log}")
            if {edge.http_port, edge.status_port} <= listening_ports(process.pid):
                break
            await asyncio.sleep(0.025)
        else:
            raise RuntimeError(f"nginx did not listen within 5 s:\n{edge.error_log}")
        yield replace(edge, pid=process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGQUIT)
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def raw_request(port: int, request: bytes) -> bytes:
    """Sends `request` as is (no client normalises its path) and returns the whole answer;
    the request should say `Connection: close`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()
