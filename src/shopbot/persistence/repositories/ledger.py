import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, literal, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shopbot.domain.errors import IdempotencyKeyReused, InsufficientFunds
from shopbot.domain.ledger.accounts import AccountKind, account_kind, user_id_of
from shopbot.domain.ledger.ports import AccountStatement, HistoryLine, PostedTransaction
from shopbot.domain.ledger.transactions import Entry, LedgerTransaction
from shopbot.domain.ledger.verification import BalanceMismatch, LedgerReport
from shopbot.persistence.models import AccountRow, LedgerEntryRow, LedgerTransactionRow
from shopbot.persistence.types import Money, utcnow

ACCOUNTS = cast(Table, AccountRow.__table__)
TRANSACTIONS = cast(Table, LedgerTransactionRow.__table__)
ENTRIES = cast(Table, LedgerEntryRow.__table__)


@dataclass(frozen=True)
class PostingStatements:
    """The statements of a posting, built once per dialect: composing them for every
    posting (the upsert's `excluded` columns above all) cost more CPU than running them
    (bench/webhook.py profiled). Parameters: `key`, `kind`, `memo`, `actor`, `now`
    (claim); `account_code`, `account_kind`, `account_user_id`, `amount`, `now` (credit,
    debit, account);
    `transaction_id`, `account_id`, `amount` (entries).

    `credit_entry` and `debit_entry` (PostgreSQL only, else None): `credit` and `debit`
    with the entry's INSERT in the same statement (a data-modifying CTE), RETURNING the
    entry's account id; parameters those of `credit` (or `debit`) and `transaction_id`.
    One round trip per entry instead of two, and no separate lookup of a shared
    account's id."""

    claim: Any
    credit: Any
    debit: Any
    account_id: Any
    create_account: Any
    entries: Any
    credit_entry: Any = None
    debit_entry: Any = None


@functools.cache
def posting_statements(dialect: str) -> PostingStatements:
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = bindparam("now", type_=ACCOUNTS.c.updated_at.type)
    amount = bindparam("amount", type_=ACCOUNTS.c.balance.type)
    code = bindparam("account_code", type_=ACCOUNTS.c.code.type)
    new_account = {
        "code": code,
        "kind": bindparam("account_kind", type_=ACCOUNTS.c.kind.type),
        "user_id": bindparam("account_user_id", type_=ACCOUNTS.c.user_id.type),
        "created_at": now,
        "updated_at": now,
    }
    credit = insert_(ACCOUNTS)
    credit = credit.values(**new_account, balance=amount).on_conflict_do_update(
        index_elements=["code"],
        set_={
            "balance": ACCOUNTS.c.balance + credit.excluded.balance,
            "updated_at": credit.excluded.updated_at,
        },
    )
    debit = (
        update(ACCOUNTS)
        .where(ACCOUNTS.c.code == code, ACCOUNTS.c.balance + amount >= 0)
        .values(balance=ACCOUNTS.c.balance + amount, updated_at=now)
    )
    with_entry: dict[str, Any] = {}
    if dialect == "postgresql":
        transaction_id = bindparam("transaction_id", type_=ENTRIES.c.transaction_id.type)
        for name, changed in (("credit_entry", credit), ("debit_entry", debit)):
            account = changed.returning(ACCOUNTS.c.id).cte(f"{name}_account")
            with_entry[name] = (
                insert(ENTRIES)
                .from_select(
                    ["transaction_id", "account_id", "amount"],
                    select(transaction_id, account.c.id, amount),
                )
                .add_cte(account)
                .returning(ENTRIES.c.account_id)
            )
    return PostingStatements(
        claim=insert_(TRANSACTIONS)
        .values(
            idempotency_key=bindparam("key", type_=TRANSACTIONS.c.idempotency_key.type),
            kind=bindparam("kind", type_=TRANSACTIONS.c.kind.type),
            memo=bindparam("memo", type_=TRANSACTIONS.c.memo.type),
            actor=bindparam("actor", type_=TRANSACTIONS.c.actor.type),
            created_at=bindparam("now", type_=TRANSACTIONS.c.created_at.type),
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(TRANSACTIONS.c.id),
        credit=credit.returning(ACCOUNTS.c.id),
        debit=debit.returning(ACCOUNTS.c.id),
        account_id=select(ACCOUNTS.c.id).where(ACCOUNTS.c.code == code),
        create_account=insert_(ACCOUNTS)
        .values(**new_account, balance=literal(Decimal(0), ACCOUNTS.c.balance.type))
        .on_conflict_do_nothing(index_elements=["code"]),
        entries=insert(ENTRIES),
        **with_entry,
    )


def _new_account(code: str) -> dict[str, Any]:
    """Parameters of an account created on first use."""
    return {
        "account_code": code,
        "account_kind": account_kind(code).value,
        "account_user_id": user_id_of(code),
        "now": utcnow(),
    }


class SqlLedgerRepository:
    """`postings=False` (a session in autocommit, `SqlUnitOfWork`): `post` raises
    RuntimeError, since its statements would each commit and a failure halfway (an
    overdraft refused at the debit) would leave the idempotency key claimed with no
    entries, the operation stuck for good."""

    def __init__(self, session: AsyncSession, *, postings: bool = True) -> None:
        self._session = session
        self._postings = postings

    def _statements(self) -> PostingStatements:
        return posting_statements(self._session.get_bind().dialect.name)

    async def post(self, transaction: LedgerTransaction) -> PostedTransaction:
        if not self._postings:
            raise RuntimeError("ledger postings need a transaction, not autocommit")
        claim = {
            "key": transaction.idempotency_key,
            "kind": transaction.kind.value,
            "memo": transaction.memo,
            "actor": transaction.actor,
            "now": utcnow(),
        }
        claimed = await self._session.execute(self._statements().claim, claim)
        transaction_id = claimed.scalar_one_or_none()
        if transaction_id is None:
            return await self._repeat(transaction)
        ordered = transaction.in_lock_order()
        if self._statements().credit_entry is not None:
            # Each entry's balance change and its row in one statement, in lock order: the
            # shared system rows (revenue, provider clearing), which every transaction
            # touches, come last and stay locked only until the commit.
            for entry in ordered:
                await self._apply(entry, transaction_id)
            return PostedTransaction(transaction_id=transaction_id, created=True)
        shared = [e for e in ordered if account_kind(e.account) is not AccountKind.USER]
        account_ids = {}
        for entry in ordered:
            if entry in shared:
                account_ids[entry.account] = await self._account_id(entry.account)
            else:
                account_ids[entry.account] = await self._apply(entry)
        rows = [
            {
                "transaction_id": transaction_id,
                "account_id": account_ids[e.account],
                "amount": e.amount,
            }
            for e in ordered
        ]
        await self._session.execute(self._statements().entries, rows)
        # The shared system rows (revenue, provider clearing) are what every transaction
        # touches: they are updated last, so each stays locked only until the commit.
        for entry in shared:
            await self._apply(entry)
        return PostedTransaction(transaction_id=transaction_id, created=True)

    async def _repeat(self, transaction: LedgerTransaction) -> PostedTransaction:
        """The first posting under the transaction's key, if it is the same operation.

        Same operation: the same kind and the same amount on each account (memo and actor
        are descriptions and may differ). Anything else raises IdempotencyKeyReused naming
        what the key was used for. A concurrent twin that held the key is committed by now
        (PostgreSQL made our INSERT wait for it), so its entries are visible here.
        """
        key = transaction.idempotency_key
        first = await self._session.execute(
            select(LedgerTransactionRow.id, LedgerTransactionRow.kind).where(
                LedgerTransactionRow.idempotency_key == key
            )
        )
        row = first.one_or_none()
        if row is None:
            raise RuntimeError("idempotency key conflicted but no transaction holds it")
        entries = await self._session.execute(
            select(AccountRow.code, LedgerEntryRow.amount)
            .join(AccountRow, AccountRow.id == LedgerEntryRow.account_id)
            .where(LedgerEntryRow.transaction_id == row.id)
        )
        stored = {code: amount for code, amount in entries}
        asked = {entry.account: entry.amount for entry in transaction.entries}
        if row.kind != transaction.kind.value or stored != asked:
            moves = ", ".join(f"{code} {amount:+}" for code, amount in sorted(stored.items()))
            raise IdempotencyKeyReused(key, f"{row.kind} #{row.id} ({moves})")
        return PostedTransaction(transaction_id=row.id, created=False)

    async def _account_id(self, code: str) -> int:
        """The account's id without locking its row; created (balance 0) on first use."""
        statements = self._statements()
        account_id = await self._session.scalar(statements.account_id, {"account_code": code})
        if account_id is None:
            await self._session.execute(statements.create_account, _new_account(code))
            account_id = await self._session.scalar(statements.account_id, {"account_code": code})
        if account_id is None:
            raise RuntimeError(f"account {code} could not be created")
        return int(account_id)

    async def _apply(self, entry: Entry, transaction_id: int | None = None) -> int:
        """Add the entry to the stored balance in one statement; with `transaction_id`
        (PostgreSQL), record the entry in that same statement too. Returns the account id.

        A user debit is a conditional UPDATE: PostgreSQL evaluates the condition on the
        locked, latest row version, so concurrent debits of one balance serialize here and
        none can overdraw it (a missing account has nothing to debit). Everything else
        (credits, system accounts, which may go negative) is an upsert that creates the
        account on first use; racing creators are settled by the UNIQUE code.
        """
        statements = self._statements()
        recorded = transaction_id is not None
        if account_kind(entry.account) is AccountKind.USER and entry.amount < 0:
            debit = {"account_code": entry.account, "amount": entry.amount, "now": utcnow()}
            if recorded:
                debit["transaction_id"] = transaction_id
            statement = statements.debit_entry if recorded else statements.debit
            debited = await self._session.execute(statement, debit)
            account_id = debited.scalar_one_or_none()
            if account_id is None:
                raise InsufficientFunds(entry.account)
            return int(account_id)
        credit = {**_new_account(entry.account), "amount": entry.amount}
        if recorded:
            credit["transaction_id"] = transaction_id
        statement = statements.credit_entry if recorded else statements.credit
        credited = await self._session.execute(statement, credit)
        return int(credited.scalar_one())

    async def balance(self, account: str) -> Decimal:
        value = await self._session.scalar(_balance_statement(), {"account": account})
        return value if value is not None else Decimal("0.00")

    async def statement(self, account: str, limit: int) -> AccountStatement:
        query = _account_statement()
        rows = (await self._session.execute(query, {"account": account, "limit": limit})).all()
        if not rows:  # no account row: nothing was ever posted to it
            return AccountStatement(Decimal("0.00"), [])
        return AccountStatement(
            rows[0].balance, [_history_line(row) for row in rows if row.id is not None]
        )

    async def verify(self) -> LedgerReport:
        s = self._session
        entry_sum = func.coalesce(func.sum(LedgerEntryRow.amount), literal(Decimal(0), Money()))
        unbalanced = await s.scalars(
            select(LedgerTransactionRow.idempotency_key)
            .outerjoin(LedgerEntryRow, LedgerEntryRow.transaction_id == LedgerTransactionRow.id)
            .group_by(LedgerTransactionRow.id, LedgerTransactionRow.idempotency_key)
            .having(or_(entry_sum != 0, func.count(LedgerEntryRow.id) < 2))
            .order_by(LedgerTransactionRow.id)
        )
        mismatched = await s.execute(
            select(AccountRow.code, AccountRow.balance, entry_sum.label("from_entries"))
            .outerjoin(LedgerEntryRow, LedgerEntryRow.account_id == AccountRow.id)
            .group_by(AccountRow.id, AccountRow.code, AccountRow.balance)
            .having(AccountRow.balance != entry_sum)
            .order_by(AccountRow.code)
        )
        negative = await s.scalars(
            select(AccountRow.code)
            .where(AccountRow.kind == AccountKind.USER.value, AccountRow.balance < 0)
            .order_by(AccountRow.code)
        )
        return LedgerReport(
            accounts=await s.scalar(select(func.count(AccountRow.id))) or 0,
            transactions=await s.scalar(select(func.count(LedgerTransactionRow.id))) or 0,
            entries=await s.scalar(select(func.count(LedgerEntryRow.id))) or 0,
            total=await s.scalar(select(entry_sum)) or Decimal("0.00"),
            unbalanced_transactions=list(unbalanced),
            mismatched_balances=[
                BalanceMismatch(account=r.code, stored=r.balance, from_entries=r.from_entries)
                for r in mismatched
            ],
            negative_user_balances=list(negative),
        )


@functools.cache
def _balance_statement() -> Any:
    """An account's balance (`account` bound), built once like `_history_statement`."""
    return select(AccountRow.balance).where(AccountRow.code == bindparam("account"))


def _history_line(row: Any) -> HistoryLine:
    return HistoryLine(
        transaction_id=row.id,
        kind=row.kind,
        amount=row.amount,
        memo=row.memo,
        created_at=row.created_at.isoformat(timespec="seconds"),
    )


@functools.cache
def _account_statement() -> Any:
    """The account's balance beside each of its last entries (`account`, `limit` bound),
    newest first; one row with no entry (NULL columns) when it has none. One statement
    instead of a balance read and a history read: one round trip, and both see the same
    moment."""
    lines = _history_statement().subquery("lines")
    return (
        select(
            AccountRow.balance,
            lines.c.id,
            lines.c.kind,
            lines.c.amount,
            lines.c.memo,
            lines.c.created_at,
        )
        .outerjoin(lines, true())
        .where(AccountRow.code == bindparam("account"))
        .order_by(lines.c.id.desc())
    )


@functools.cache
def _history_statement() -> Any:
    """An account's last entries, newest first (`account`, `limit` bound): built once, as
    composing it and generating its cache key on every Balance screen showed in py-spy
    samples of bench/dispatch.py."""
    return (
        select(
            LedgerTransactionRow.id,
            LedgerTransactionRow.kind,
            LedgerEntryRow.amount,
            LedgerTransactionRow.memo,
            LedgerTransactionRow.created_at,
        )
        .join(LedgerEntryRow, LedgerEntryRow.transaction_id == LedgerTransactionRow.id)
        .join(AccountRow, AccountRow.id == LedgerEntryRow.account_id)
        .where(AccountRow.code == bindparam("account"))
        .order_by(LedgerTransactionRow.id.desc())
        .limit(bindparam("limit"))
    )
