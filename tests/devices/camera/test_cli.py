"""`touchpoint count-video` run as a person would: a subprocess, JSON out, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[3]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "from touchpoint.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "count-video", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )


def _line(truth: dict) -> str:
    return ",".join(str(v) for v in truth["line"])


def test_json_output_matches_the_truth_and_annotates(clips, tmp_path: Path) -> None:
    truth = clips("pairs")
    out = tmp_path / "check.avi"
    proc = _run(truth["video"], "--line", _line(truth), "--json", "--annotate", str(out))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result) == {"in", "out", "frames", "fps"}
    assert (result["in"], result["out"], result["frames"]) == (
        truth["in"],
        truth["out"],
        truth["frames"],
    )
    assert result["fps"] > 0
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == truth["frames"]
    cap.release()


def test_in_side_left_swaps_the_counts(clips) -> None:
    truth = clips("single")
    proc = _run(truth["video"], "--line", _line(truth), "--in-side", "left", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["in"], result["out"]) == (truth["out"], truth["in"])


def test_bad_input_exits_2_with_a_clear_message(clips, tmp_path: Path) -> None:
    truth = clips("single")
    missing = _run(str(tmp_path / "nope.avi"), "--line", "0,1,2,3")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    bad_line = _run(truth["video"], "--line", "0,1,2")
    assert bad_line.returncode == 2 and "X1,Y1,X2,Y2" in bad_line.stderr
    garbage = tmp_path / "garbage.avi"
    garbage.write_bytes(b"not a video at all")
    not_video = _run(str(garbage), "--line", "0,60,159,60")
    assert not_video.returncode == 2 and "not a video" in not_video.stderr


def test_every_option_has_help() -> None:
    from devices.camera.cli import count_video

    assert count_video.help
    for param in count_video.params:
        if param.param_type_name == "option":
            assert param.help, param.name
