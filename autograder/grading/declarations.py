"""What an assignment's cases file declares: its items, the public share of their points, its rule exceptions.

Each ``autograder/cases/test_<assignment>.py`` begins with::

    ASSIGNMENT = Assignment("01_corr2d", ["corr2d", "Conv2D", "learn_kernel", ...],
                            rules={"learn_kernel": ItemRule(allow=frozenset({"autograd"}))})
    item = ASSIGNMENT.item

and tags each case ``@item("corr2d", weight=2)``. A case tagged with an item
the assignment does not declare fails at import, so the judge stops with an
error instead of dropping it. Points come from the release notebook's test
cells; ``tests/test_cases.py`` checks that the declared items are exactly those.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from autograder.grading.rules import ItemRule

PUBLIC_SHARE = 0.25


class Assignment:
    """One assignment's grading facts; ``public_share`` of each item's points go to the public checks."""

    def __init__(self, name: str, items: Iterable[str], rules: dict[str, ItemRule] | None = None,
                 public_share: float = PUBLIC_SHARE) -> None:
        self.name = name
        self.items = tuple(items)
        self.rules = dict(rules or {})
        self.public_share = public_share
        unknown = set(self.rules) - set(self.items)
        if unknown:
            raise ValueError(f"{name}: rules for undeclared items {sorted(unknown)}")
        if not 0 <= public_share <= 0.25:
            raise ValueError(f"{name}: public checks may carry at most a quarter of an item's points")

    def item(self, name: str, weight: float = 1) -> pytest.MarkDecorator:
        """The pytest mark of a case of item ``name``, worth ``weight`` shares of its hidden points."""
        if name not in self.items:
            raise ValueError(f"{self.name}: a case is tagged with item {name!r}, which this assignment does "
                             f"not declare ({', '.join(self.items)})")
        if not weight > 0:
            raise ValueError(f"{self.name}/{name}: a case's weight must be positive")
        return pytest.mark.item(name, weight=weight)

    def rule(self, item: str) -> ItemRule:
        return self.rules.get(item, ItemRule())

    def __repr__(self) -> str:
        return f"Assignment({self.name!r}, {list(self.items)})"
