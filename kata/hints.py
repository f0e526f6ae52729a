"""Tiered hints, one TOML file per module in kata/hints/."""

from __future__ import annotations

import sys

from kata.course import Module

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def load(module: Module) -> dict[str, list[str]]:
    """{task id: [hint 1, hint 2, ...]} for ``module``; empty if it has no hints file."""
    if not module.hints_path.exists():
        return {}
    data = tomllib.loads(module.hints_path.read_text(encoding="utf-8"))
    return {task: list(entry.get("hints", [])) for task, entry in data.items()}
