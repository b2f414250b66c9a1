"""Who moved money: the `actor` stored with every ledger posting.

One spelling per kind of actor, so an audit can select every admin action with one
prefix: `tg-admin:<Telegram user id>` for an admin in the bot, `cli:<OS user>` for an
operator's shop command, and `system` for the shop itself (payments, purchases).
"""

SYSTEM_ACTOR = "system"


def admin_actor(telegram_user_id: int) -> str:
    """The actor of a money action an admin confirmed in the bot: `tg-admin:<id>`."""
    return f"tg-admin:{telegram_user_id}"


def cli_actor(os_user: str) -> str:
    """The actor of a money action run from the `shopbot` CLI: `cli:<OS user>`."""
    return f"cli:{os_user}"
