"""The unit tests' shared fixtures: Services on the fakes, and a detector that reads tags."""

from __future__ import annotations

import pytest

from kindred import crisis
from tests.unit.harness import FakeServices, make_services, tagged


@pytest.fixture
def svc() -> FakeServices:
    return make_services()


@pytest.fixture
def tagged_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    """The detector replaced by `tagged`: "[high] ..." is a high signal, untagged text none."""
    monkeypatch.setattr(crisis, "assess", tagged)
