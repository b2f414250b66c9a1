"""Domain errors. Their messages are safe to show to operators and users: no secrets."""


class DomainError(Exception):
    """A rule of the shop refused an operation; nothing was changed."""


class InvalidAmount(DomainError):
    """`code` says why, for a translated message: not_a_number | ambiguous |
    leading_zero | decimals | too_large | not_positive | out_of_range."""

    def __init__(self, message: str, code: str = "not_a_number") -> None:
        super().__init__(message)
        self.code = code


class InsufficientFunds(DomainError):
    def __init__(self, account: str) -> None:
        super().__init__(f"insufficient funds on account {account}")
        self.account = account


class UnbalancedTransaction(DomainError):
    pass


class NotFound(DomainError):
    pass


class UserNotFound(NotFound):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"user {user_id} not found")
        self.user_id = user_id


class ProductNotFound(NotFound):
    def __init__(self, sku: str) -> None:
        super().__init__(f"product {sku!r} not found")
        self.sku = sku


class OrderNotFound(NotFound):
    def __init__(self, order_id: int) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id


class ProductUnavailable(DomainError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"product {sku!r} is not on sale")
        self.sku = sku


class OutOfStock(DomainError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"product {sku!r} is out of stock")
        self.sku = sku


class OrderStateError(DomainError):
    """The order is not in a state that allows the requested change (e.g. refunded twice)."""


class UserBlocked(DomainError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"user {user_id} is blocked")
        self.user_id = user_id


class InvalidInput(DomainError):
    """Operator or user input that fails validation (catalog files, stock files, ...)."""


class StockItemsExist(InvalidInput):
    def __init__(self, positions: list[int]) -> None:
        super().__init__(f"{len(positions)} item(s) are already in stock for this product")
        self.positions = positions
        """0-based positions, in the uploaded list, of the items already stored."""


class IdempotencyKeyReused(DomainError):
    """An idempotency (request) key already names a different operation.

    A key stands for one operation: repeating it with the same parameters returns the
    first result, repeating it with other parameters is refused and changes nothing.
    """

    def __init__(self, key: str, used_for: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for {used_for}")
        self.key = key
        self.used_for = used_for
