"""The template and its entrypoint script: defaults, refusals, and `nginx -t` with the
Compose service names (resolved through a private /etc/hosts, as Docker's DNS would)."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.nginx.conftest import make_certificate
from tests.nginx.edge import (
    DOMAIN,
    NGINX_CONF,
    EntrypointFailed,
    configure,
    entrypoint_environment,
    nginx_binary,
    render_templates,
)


def render_defaults(root: Path, **variables: str) -> Path:
    """Renders with only PRODUCTION_DOMAIN and the test's paths set; returns conf.d."""
    conf_d = root / "conf.d"
    env = entrypoint_environment(
        {
            "PRODUCTION_DOMAIN": DOMAIN,
            "NGINX_ENVSUBST_OUTPUT_DIR": str(conf_d),
            "NGINX_TLS_DIR": str(root / "certs"),
            **variables,
        }
    )
    render_templates(env, conf_d)
    return conf_d


def test_defaults_are_the_compose_topology(tmp_path: Path) -> None:
    default = (render_defaults(tmp_path) / "default.conf").read_text()
    assert "server app:8080 max_fails=2 fail_timeout=10s;" in default
    assert "server webhook:8001 max_fails=2 fail_timeout=10s;" in default
    assert "listen 80;" in default
    assert "listen 8081;" in default
    assert f"server_name {DOMAIN};" in default
    assert "# TLS off" in default
    assert "set_real_ip_from" not in default  # nobody is trusted unless configured
    assert "access_log /var/log/nginx/access.log shopbot_json;" in default


def test_every_placeholder_is_filled(tmp_path: Path) -> None:
    """envsubst leaves an undefined ${NAME} as written, which nginx would then read as a
    variable: every name the templates use must come from the script's defaults."""
    make_certificate(tmp_path / "certs")
    for rendered in render_defaults(tmp_path).rglob("*"):
        if rendered.is_file():
            assert "${" not in rendered.read_text(), rendered


def test_nginx_accepts_the_defaults_with_the_service_names(tmp_path: Path) -> None:
    """`nginx -t` resolves upstream names: `app` and `webhook` resolve through a hosts file
    bind-mounted over /etc/hosts in a private mount namespace, as Docker's DNS would."""
    make_certificate(tmp_path / "certs")
    conf_d = render_defaults(tmp_path, NGINX_ACCESS_LOG=str(tmp_path / "access.log"))
    assert f"include {conf_d}/shopbot/tls.inc;" in (conf_d / "default.conf").read_text()
    (tmp_path / "logs").mkdir()
    (tmp_path / "temp").mkdir()
    (tmp_path / "nginx.conf").write_text(NGINX_CONF.format(user="", root=tmp_path))
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n10.0.0.11 app\n10.0.0.12 app\n10.0.0.13 webhook\n")
    unshare = ["unshare", "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    nginx_t = f"{nginx_binary()} -t -p {tmp_path} -c {tmp_path}/nginx.conf"
    check = f"mount --bind {hosts} /etc/hosts && exec {nginx_t}"
    done = subprocess.run(
        [*unshare, "sh", "-ec", check], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"PRODUCTION_DOMAIN": ""}, "PRODUCTION_DOMAIN is required"),
        ({"PRODUCTION_DOMAIN": "shop.example.test; return 200"}, "PRODUCTION_DOMAIN"),
        ({"ENABLE_HTTPS_REDIRECT": "yes"}, "ENABLE_HTTPS_REDIRECT"),
        ({"NGINX_TRUSTED_PROXIES": "10.0.0.0/8; allow all"}, "NGINX_TRUSTED_PROXIES"),
        ({"NGINX_REAL_IP_HEADER": "X-Client-IP"}, "NGINX_REAL_IP_HEADER"),
        ({"NGINX_APP_SERVERS": "app:8080 backup}"}, "NGINX_APP_SERVERS"),
        ({"NGINX_WEBHOOK_SERVERS": "webhook:8001;"}, "NGINX_WEBHOOK_SERVERS"),
        ({"NGINX_HTTP_LISTEN": "80 default_server"}, "NGINX_HTTP_LISTEN"),
        ({"NGINX_STATUS_ALLOW": "all"}, "NGINX_STATUS_ALLOW"),
    ],
)
def test_the_entrypoint_refuses_a_bad_value(
    tmp_path: Path, variables: dict[str, str], named: str
) -> None:
    with pytest.raises(EntrypointFailed, match=named):
        configure(tmp_path, variables)
    assert not (tmp_path / "conf.d" / "default.conf").exists()


def test_one_certificate_file_without_the_other_is_refused(tmp_path: Path) -> None:
    make_certificate(tmp_path / "certs")
    (tmp_path / "certs" / "privkey.pem").unlink()
    with pytest.raises(EntrypointFailed, match=r"only one of fullchain\.pem and privkey\.pem"):
        configure(tmp_path, {})


def test_redirect_switch_is_case_insensitive() -> None:
    env = entrypoint_environment({"PRODUCTION_DOMAIN": DOMAIN, "ENABLE_HTTPS_REDIRECT": "TRUE"})
    assert env["ENABLE_HTTPS_REDIRECT"] == "true"


def test_trusted_proxies_become_realip_lines(tmp_path: Path) -> None:
    conf_d = render_defaults(
        tmp_path,
        NGINX_TRUSTED_PROXIES="172.16.0.0/12, 10.0.0.0/8 2001:db8::/32",
        NGINX_REAL_IP_HEADER="CF-Connecting-IP",
    )
    default = (conf_d / "default.conf").read_text()
    for network in ("172.16.0.0/12", "10.0.0.0/8", "2001:db8::/32"):
        assert f"set_real_ip_from {network};" in default
        assert f" {network} 1;" in default  # the geo block that trusts X-Forwarded-Proto
    assert "real_ip_header CF-Connecting-IP;" in default
