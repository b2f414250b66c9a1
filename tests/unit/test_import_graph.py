"""The packages depend one way (docs/architecture.md): the import-linter contracts in
pyproject.toml hold, and no import cycle joins two packages or two domain modules."""

import graphlib
import logging
from pathlib import Path

import grimp
from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def test_the_import_contracts_hold() -> None:
    # lint_imports configures logging with dictConfig, which disables every logger that
    # exists: in this worker's later tests, uvicorn's records would vanish.
    loggers = [logging.getLogger(name) for name in logging.root.manager.loggerDict]
    enabled = [logger for logger in loggers if not logger.disabled]
    try:
        # On failure, the captured output names each broken contract and the import chain.
        assert lint_imports(config_filename=str(PYPROJECT), no_cache=True) == EXIT_STATUS_SUCCESS
    finally:
        for logger in enabled:
            logger.disabled = False


def imports_between(graph: grimp.ImportGraph, within: str, depth: int) -> dict[str, set[str]]:
    """`within`'s modules grouped by their first `depth` name parts (depth 2: the
    packages shopbot.bot, shopbot.domain, ...; a large depth: single modules), each with
    the groups it imports."""
    prefix = f"{within}."

    def group(module: str) -> str:
        return ".".join(module.split(".")[:depth])

    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        if not module.startswith(prefix):
            continue
        imported = graph.find_modules_directly_imported_by(module)
        targets = {group(other) for other in imported if other.startswith(prefix)}
        edges.setdefault(group(module), set()).update(targets - {group(module)})
    return edges


def cycle_in(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among `edges` (as a path back to its start), or None."""
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError as error:
        cycle: list[str] = error.args[1]
        return cycle
    return None


def test_no_import_cycle_between_packages() -> None:
    graph = grimp.build_graph("shopbot", cache_dir=None)
    assert cycle_in(imports_between(graph, "shopbot", depth=2)) is None


def test_no_import_cycle_between_domain_modules() -> None:
    graph = grimp.build_graph("shopbot", cache_dir=None)
    assert cycle_in(imports_between(graph, "shopbot.domain", depth=99)) is None
