from shopbot.domain.users.models import User
from shopbot.domain.users.ports import UserRepository

__all__ = ["User", "UserRepository"]
