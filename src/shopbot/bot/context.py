from dataclasses import dataclass, field

from shopbot.bot.coordination import Coordination
from shopbot.bot.rate_limits.limiter import RateLimiter
from shopbot.config import Settings
from shopbot.domain.payments.gateway import PaymentGateway
from shopbot.domain.payments.stars import StarsPolicy
from shopbot.domain.payments.topups import TopupPolicy
from shopbot.persistence.uow import ReadOnlyUnitOfWorkFactory, UnitOfWorkFactory


@dataclass
class BotContext:
    """Everything handlers need, built once per process by `shopbot.composition`;
    handlers receive it as `ctx`."""

    settings: Settings
    uows: UnitOfWorkFactory
    coordination: Coordination
    stars_policy: StarsPolicy
    rate_limiter: RateLimiter
    """Per-user and global rate limits (bot/rate_limits), on the coordination store."""
    gateway: PaymentGateway | None = None
    topup_policy: TopupPolicy | None = None
    """Heleket top-ups; None when they are off (no gateway or no URL for webhooks)."""
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    reads: ReadOnlyUnitOfWorkFactory | None = None
    """Read-only units of work, given to handlers that take `reads`
    (bot/middlewares/reads.py); None in processes without handlers (the notifier)."""

    @property
    def currency(self) -> str:
        return self.settings.shop_currency

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids
