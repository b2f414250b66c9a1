"""Domain policies built from the settings, once per process (no aiogram here: the
CLI's payment commands import this module)."""

from shopbot.config import Settings, is_placeholder
from shopbot.domain.payments.gateway import PaymentGateway
from shopbot.domain.payments.stars import StarsPolicy
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


def crypto_topup_policy(settings: Settings, gateway: PaymentGateway | None) -> TopupPolicy | None:
    """The bot's Heleket top-up policy; None when crypto top-ups are off (no gateway, or
    no public URL for Heleket's webhooks)."""
    if gateway is None or not crypto_topups_possible(settings):
        return None
    return topup_policy(settings)


def stars_policy(settings: Settings) -> StarsPolicy:
    """Telegram Stars top-ups: the shop's limits and STARS_PER_UNIT."""
    return StarsPolicy(
        currency=settings.shop_currency,
        minimum=settings.topup_min,
        maximum=settings.topup_max,
        stars_per_unit=settings.stars_per_unit,
    )


def telegram_configured(settings: Settings) -> bool:
    """TELEGRAM_TOKEN is given (not a placeholder): customers can be messaged."""
    token = settings.telegram_token
    return token is not None and not is_placeholder(token.get_secret_value())
