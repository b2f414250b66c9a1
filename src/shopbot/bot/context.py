from dataclasses import dataclass, field

from shopbot.bot.coordination import Coordination
from shopbot.config import Settings
from shopbot.domain.payments.gateway import PaymentGateway
from shopbot.persistence.uow import UnitOfWorkFactory


@dataclass
class BotContext:
    """Everything handlers need, built once per process; handlers receive it as `ctx`."""

    settings: Settings
    uows: UnitOfWorkFactory
    coordination: Coordination
    gateway: PaymentGateway | None = None
    admin_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def currency(self) -> str:
        return self.settings.shop_currency

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids
