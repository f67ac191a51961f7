"""The store agent counting people from a recorded overhead video through a camera_counter."""

from __future__ import annotations

import time

from devices.camera import scene
from edge.agent import Agent
from edge.config import load_store_config
from edge.configtree import SecretResolver
from tests.edge.agent_support import door_totals, wait_for, write_store_config

SIZE = (160, 120)


def camera_toml(truth: dict) -> str:
    w, h = SIZE
    x1, y1, x2, y2 = truth["line"]
    return f"""
[[devices]]
type = "camera_counter"
name = "door-cam"
door = "main"
source = "{truth["video"]}"
line = [{x1}, {y1}, {x2}, {y2}]
in_side = "{truth["in_side"]}"
min_area = {round(0.0025 * w * h)}
max_area = {round(0.016 * w * h)}
width = {w}
height = {h}
"""


def test_agent_counts_a_recorded_video_once_and_exactly(tmp_path):
    truth = scene.generate("pairs", 1, tmp_path / "clips", SIZE)
    assert truth["in"] and truth["out"]
    config = write_store_config(tmp_path, camera_toml(truth))
    agent = Agent(load_store_config(config), SecretResolver.from_environ(config), boot_id="cam")
    db = tmp_path / "store.db"
    agent.start()
    try:
        item = agent.supervisor.items["door-cam"]
        wait_for(lambda: item.component.finished, timeout=30, what="the video counted to its end")
        wait_for(lambda: door_totals(db) == (truth["in"], truth["out"]), what="door totals")
        # The supervisor must see a finished recording as healthy: a restart would
        # read the file again and count everyone twice.
        for _ in range(3):
            agent.tick()
            time.sleep(0.1)
        assert item.running and item.failures == 0
    finally:
        agent.stop()
    assert door_totals(db) == (truth["in"], truth["out"])
