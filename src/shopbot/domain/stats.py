"""Figures for the admin's dashboard."""

from typing import Protocol


class StatsRepository(Protocol):
    pass
