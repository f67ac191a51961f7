"""Generated overhead clips (160x120, a few hundred frames) shared by the camera tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.camera import scene


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory):
    """Render a scenario once per session; returns its truth dict (with ``video``)."""
    out = tmp_path_factory.mktemp("clips")
    cache: dict[tuple[str, int], dict] = {}

    def get(scenario: str, seed: int = 1) -> dict:
        key = (scenario, seed)
        if key not in cache:
            cache[key] = scene.generate(scenario, seed, Path(out), size=(160, 120))
        return cache[key]

    return get
