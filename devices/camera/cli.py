"""`touchpoint count-video`: run the camera counter over a recorded video."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import cv2

from devices.camera.analysis import CountingConfig, LineCounter
from devices.camera.annotate import draw
from devices.camera.capture import FrameSource


def _parse_line(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, ...]:
    parts = value.split(",")
    try:
        nums = tuple(float(p) for p in parts)
    except ValueError:
        nums = ()
    if len(nums) != 4:
        raise click.BadParameter(f"expected X1,Y1,X2,Y2 (four numbers), got {value!r}")
    return nums


@click.command("count-video")
@click.argument("video", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--line",
    "line",
    required=True,
    callback=_parse_line,
    help="Counting line X1,Y1,X2,Y2 in video pixels.",
)
@click.option(
    "--in-side",
    type=click.Choice(["left", "right"]),
    default="right",
    show_default=True,
    help="Side of the line (looking from X1,Y1 to X2,Y2 on screen) that is inside.",
)
@click.option(
    "--min-area",
    type=click.FloatRange(min=1),
    default=None,
    help="Smallest single-person blob, px² [default: 0.25% of the frame].",
)
@click.option(
    "--max-area",
    type=click.FloatRange(min=1),
    default=None,
    help="Largest single-person blob, px² [default: 1.6% of the frame].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option(
    "--annotate",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a validation video (MJPG .avi) with blobs, tracks, line and counts.",
)
def count_video(
    video: Path,
    line: tuple[float, float, float, float],
    in_side: str,
    min_area: float | None,
    max_area: float | None,
    as_json: bool,
    annotate: Path | None,
) -> None:
    """Count people crossing a line in an overhead VIDEO; print in, out, frames and fps."""
    try:
        config = CountingConfig(line=line, in_side=in_side, min_area=min_area, max_area=max_area)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    probe = cv2.VideoCapture(str(video))
    if not probe.isOpened():
        probe.release()
        raise click.UsageError(f"{video}: not a video OpenCV can read")
    total = int(probe.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    fps_in = probe.get(cv2.CAP_PROP_FPS) or 25.0
    probe.release()

    counter = LineCounter(config)
    # Read in a thread, never dropping: decoding overlaps analysis on a second core.
    source = FrameSource(video, name="count-video", drop=False, read_once=True, queue_size=8)
    writer = None
    frames = 0
    bar = (
        click.progressbar(length=total, label="counting", file=sys.stderr)
        if (total and sys.stderr.isatty())
        else None
    )
    started = time.perf_counter()
    source.start()
    try:
        while True:
            frame = source.get(timeout=10.0)
            if frame is None:
                if source.ended:
                    break
                raise click.ClickException(f"{video}: no frame decoded for 10 s")
            frames += 1
            counter.process(frame.image)
            if annotate is not None:
                if writer is None:
                    writer = _open_writer(annotate, fps_in, frame.image)
                writer.write(draw(frame.image, counter))
            if bar is not None:
                bar.update(1)
        counter.finish()
    finally:
        source.stop(2.0)
        if writer is not None:
            writer.release()
        if bar is not None:
            bar.render_finish()
    elapsed = time.perf_counter() - started
    if frames == 0:
        raise click.UsageError(f"{video}: no frames could be decoded")
    result = {
        "in": counter.counts["in"],
        "out": counter.counts["out"],
        "frames": frames,
        "fps": round(frames / elapsed, 1) if elapsed > 0 else 0.0,
    }
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(
            f"in {result['in']}  out {result['out']}  "
            f"({result['frames']} frames at {result['fps']} fps)"
        )


def _open_writer(path: Path, fps: float, image) -> cv2.VideoWriter:
    h, w = image.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    if not writer.isOpened():
        raise click.UsageError(f"{path}: cannot write a video here (use an .avi path)")
    return writer
