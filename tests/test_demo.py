"""`touchpoint demo --headless`: the chain runs end to end and every count agrees exactly."""

from __future__ import annotations

import json

from tests.support import touchpoint


def test_demo_headless_prints_an_exact_summary(tmp_path):
    result = touchpoint(
        "demo",
        "--stores",
        "2",
        "--minutes",
        "20",
        "--speed",
        "600",
        "--headless",
        "--workdir",
        str(tmp_path),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["exact"] is True
    assert set(summary["stores"]) == {"demo-001", "demo-002"}
    for store in summary["stores"].values():
        assert store["entries"] == store["sensor_in"] == store["hq_in"] > 0
        assert store["exits"] == store["sensor_out"] == store["hq_out"]
        assert store["hq_acked"] == store["last_seq"]
        # Head office's feed for the day matches what the simulation knows happened, and
        # the store's own visitor count.
        feed, truth = store["feed"], store["truth"]
        assert {k: feed[k] for k in truth} == truth
        assert feed["visitors"] == store["visitors"] == store["sensor_in"]
        assert feed["identified_visits"] > 0 and feed["matched_visits"] > 0
    assert summary["imports"]["profiles"]["rejected"] == 0
    assert summary["imports"]["transactions"]["imported"] > 0
