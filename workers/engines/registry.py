"""Engine names → engines (the contract is base.py)."""

from __future__ import annotations

from workers.engines.base import Engine


class UnknownEngine(KeyError):
    """No engine of that name on this host."""

    def __init__(self, name: str, known: list[str]):
        super().__init__(name)
        self.name, self.known = name, known

    def __str__(self) -> str:  # KeyError's own would print the repr of the name only
        return f"unknown engine {self.name!r}; this server has {', '.join(map(repr, self.known))}"


def engines() -> dict[str, Engine]:
    """Every engine this code knows, available on this host or not (see Engine.status)."""
    # Imported here: each adapter pulls in its engine's libraries.
    from workers.engines.torch.engine import TorchEngine
    from workers.engines.turicreate.engine import TuriCreateEngine

    known: list[Engine] = [TorchEngine(), TuriCreateEngine()]
    return {engine.name: engine for engine in known}


def get_engine(name: str) -> Engine:
    known = engines()
    if name not in known:
        raise UnknownEngine(name, list(known))
    return known[name]
