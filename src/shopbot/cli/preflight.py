"""What each command needs before it starts. The command itself and `shopbot config check
--for PROCESS` call the same `preflight`, so "settings ok" means the command starts.

Refusals raise `SettingsProblem` / `MissingSecret` (exit 2) or `NotReady` (exit 1 or 2);
what only degrades the process comes back as warnings, which the caller prints.
"""

from urllib.parse import urlsplit

import click

from shopbot.config import MissingSecret, Settings, SettingsProblem, is_set, require_secrets
from shopbot.readiness import check_database, check_redis

# "cli": the commands that read or change the shop (users, balance, catalog, ledger, ...).
PROCESSES = ("cli", "bot", "webhook")
OFFICIAL_BOT_API = "api.telegram.org"
# Bot API setWebhook: "Ports currently supported for webhooks: 443, 80, 88, 8443".
WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
WHY_WEBHOOK_MESSAGES = (
    "the webhook service messages customers about their payments and completes the "
    "purchases they topped up for"
)


def requirements(settings: Settings, process: str) -> list[str]:
    """The checks of `process` that need no server: secrets and rules across settings.

    Returns warnings; raises MissingSecret or SettingsProblem naming the variable.
    """
    if process == "bot":
        return _bot(settings)
    if process == "webhook":
        require_secrets(settings, "heleket_merchant_id", "heleket_api_key")
        if not is_set(settings.telegram_token):
            raise MissingSecret("TELEGRAM_TOKEN", why=WHY_WEBHOOK_MESSAGES)
        return _payout_warning(settings)
    return []


async def preflight(settings: Settings, process: str) -> list[str]:
    """`requirements`, then the database (reachable, migrations at head) and, for the
    bot, Redis when configured. Returns warnings."""
    warnings = requirements(settings, process)
    await check_database(settings.database_url)
    if process == "bot":
        await check_redis(settings.redis_url, settings.redis_cluster_nodes)
    return warnings


def warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"shopbot: warning: {warning}", err=True)


def _bot(settings: Settings) -> list[str]:
    require_secrets(settings, "telegram_token")
    if settings.bot_mode == "webhook":
        require_secrets(settings, "telegram_webhook_secret", "public_base_url")
        _check_webhook_url(settings)
    warnings = []
    merchant, key = is_set(settings.heleket_merchant_id), is_set(settings.heleket_api_key)
    if merchant or key:  # half a Heleket configuration is a mistake, not a choice
        require_secrets(settings, "heleket_merchant_id", "heleket_api_key")
        if not (settings.heleket_webhook_url or settings.public_base_url):
            raise SettingsProblem(
                "Heleket needs a URL for its payment webhooks: set PUBLIC_BASE_URL "
                "(callbacks go to PUBLIC_BASE_URL/webhook/heleket) or HELEKET_WEBHOOK_URL"
            )
        warnings += _payout_warning(settings)
    else:
        warnings.append(
            "HELEKET_MERCHANT_ID and HELEKET_API_KEY are not set: crypto top-ups are off "
            "(the top-up screen offers Telegram Stars only)"
        )
    if not settings.admin_ids:
        warnings.append(
            "ADMIN_IDS is empty: nobody can use the admin menu, and support messages need "
            "SUPPORT_CHAT_ID or an admin"
        )
    return warnings


def _check_webhook_url(settings: Settings) -> None:
    """Telegram's own servers deliver webhooks only to HTTPS on ports 443, 80, 88, 8443
    (Bot API setWebhook); a self-hosted Bot API server or the emulator takes any URL."""
    if urlsplit(settings.telegram_api_url).hostname != OFFICIAL_BOT_API:
        return
    url = urlsplit(str(settings.public_base_url))
    port = url.port or 443
    if url.scheme != "https" or port not in WEBHOOK_PORTS:
        raise SettingsProblem(
            "PUBLIC_BASE_URL must be https:// on port 443, 80, 88 or 8443 for BOT_MODE=webhook: "
            "Telegram delivers webhooks nowhere else (Bot API setWebhook)"
        )


def _payout_warning(settings: Settings) -> list[str]:
    if is_set(settings.heleket_payout_key):
        return []
    return ["HELEKET_PAYOUT_KEY is not set: refunds cannot be sent and payout webhooks are refused"]
