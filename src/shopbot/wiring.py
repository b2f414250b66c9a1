"""Domain policies built from the settings (shared by the CLI, the bot and the services)."""

from shopbot.config import Settings
from shopbot.domain.payments.topups import TopupPolicy


def crypto_topups_possible(settings: Settings) -> bool:
    """Heleket needs somewhere to send its webhooks."""
    return bool(settings.heleket_webhook_url or settings.public_base_url)


def topup_policy(settings: Settings) -> TopupPolicy:
    """Raises MissingSecret when there is no URL for Heleket's webhooks."""
    return TopupPolicy(
        currency=settings.shop_currency,
        minimum=settings.topup_min,
        maximum=settings.topup_max,
        callback_url=settings.heleket_callback_url,
        lifetime_seconds=settings.heleket_invoice_lifetime,
        return_url=settings.heleket_return_url,
    )
