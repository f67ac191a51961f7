"""Synthetic overhead door scenes with ground truth, for tests, benchmarks and the demo.

A scene is a textured floor seen from above, a counting line across the middle of the
frame (left to right, so "right" of the directed line is the lower half, which is "in"),
and people drawn as top-down ellipses (shoulders plus head) with soft shadows. Every
scene is deterministic for a (scenario, seed, size). The truth counts a person once if
their path ends on the other side of the line from where it started; the frame of the
crossing is the last frame their centre changed side.

Two scenarios model an ordinary winter day at a Dutch store entrance (issue 14):
`lowcontrast` puts grey or dark coats within a few grey levels of grey tiles or of a
dark doormat lying beside the line, with soft shadows in varied directions, and the
first shopper walking in while the counter's background model is still settling;
`spacing` has pairs walking abreast from shoulders touching to a body width apart,
each at their own speed, in any clothing (a third in floor-coloured coats).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

SCENARIOS = ("single", "pairs", "uturn", "linger", "lighting", "noise", "lowcontrast", "spacing")
WINTER = ("lowcontrast", "spacing")  # grey tiles, a dark mat beside the line, grey coats
FPS = 25.0


@dataclass
class Walker:
    """One person: per-frame centre positions (NaN when off stage) and their look."""

    xs: np.ndarray
    ys: np.ndarray
    half_w: float  # half shoulder width, px
    half_d: float  # half body depth (front to back), px
    color: tuple[float, float, float]
    hair: float
    seed: int
    texture: float = 14.0  # fabric texture, grey levels (plain wool is smoother)
    shadow: tuple[float, float, float] = (0.35, 0.45, 0.4)  # offset x, y (body sizes), depth


@dataclass
class Scene:
    """Everything needed to render a clip and to state its truth."""

    scenario: str
    seed: int
    size: tuple[int, int]
    n_frames: int
    walkers: list[Walker] = field(default_factory=list)
    noise: float = 2.0
    gain: Callable[[int], tuple[float, float]] = lambda f: (1.0, 0.0)  # (level, gradient)
    flicker: float = 0.0
    floor: tuple[float, float] | None = None  # winter floor: (tile level, mat level)

    @property
    def line(self) -> tuple[int, int, int, int]:
        """The counting line, left to right across the middle of the frame."""
        w, h = self.size
        return (0, h // 2, w - 1, h // 2)

    def truth(self) -> dict:
        """Ground truth: {"in", "out", "crossings": [{"frame", "near", "direction"}]}, …"""
        line_y = self.size[1] // 2
        crossings = []
        for w in self.walkers:
            ok = ~np.isnan(w.ys)
            frames = np.flatnonzero(ok)
            side = np.sign(w.ys[ok] - line_y)
            side[side == 0] = -1
            if side[0] == side[-1]:
                continue
            changes = np.flatnonzero(side[1:] != side[:-1])
            frame = int(frames[changes[-1] + 1])
            # The frames the person is within a shoulder width of the line around the
            # crossing: a lingerer may stand on it for seconds, and when exactly their
            # tracked centre changes side within that time is not a counting error.
            near = np.abs(w.ys - line_y) < w.half_w
            first = last = frame
            while first > 0 and near[first - 1]:
                first -= 1
            while last + 1 < near.size and near[last + 1]:
                last += 1
            crossings.append(
                {
                    "frame": frame,
                    "near": [first, last],
                    "direction": "in" if side[-1] > 0 else "out",
                }
            )
        crossings.sort(key=lambda c: c["frame"])
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "size": list(self.size),
            "frames": self.n_frames,
            "fps": FPS,
            "line": list(self.line),
            "in_side": "right",
            "in": sum(c["direction"] == "in" for c in crossings),
            "out": sum(c["direction"] == "out" for c in crossings),
            "crossings": crossings,
        }


def build_scene(scenario: str, seed: int, size: tuple[int, int] = (320, 240)) -> Scene:
    """Lay out the people and lighting of one scenario; no rendering yet."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
    rng = np.random.default_rng([SCENARIOS.index(scenario), seed])
    w, h = size
    scene = Scene(scenario, seed, size, n_frames=0)
    t = 10  # leave the background model a few empty frames to learn from
    k = h / 240.0  # people scale with the frame, so a 640x480 clip is the same scene
    if scenario == "lighting":
        scene.n_frames = 300
        scene.gain = _lighting_program
        scene.noise = 2.5
        return scene
    if scenario in WINTER:
        return _winter_scene(scene, rng, k)
    count = {"single": 10, "pairs": 6, "uturn": 6, "linger": 6, "noise": 10}[scenario]
    for _ in range(count):
        going_in = bool(rng.random() < 0.5)
        speed = rng.uniform(2.5, 6.0) * k
        x = rng.uniform(0.25, 0.75) * w
        if scenario == "pairs":
            a, b = _person(rng, k), _person(rng, k)
            gap = rng.uniform(-0.1, 0.3) * (a[0] + b[0])
            offset = (a[0] + b[0] + gap) / 2
            x = float(np.clip(x, offset + 4, w - offset - 4))
            stagger = rng.uniform(-0.3, 0.3) * a[1]
            drift = rng.uniform(-0.05, 0.05) * h  # shared, so the pair stays side by side
            for dx, look, dy in ((-offset, a, 0.0), (offset, b, stagger)):
                way = _straight(x + dx, h, speed, going_in, drift, dy)
                scene.walkers.append(_walker(way, t, look, rng))
            t += int(rng.integers(55, 90))
            continue
        look = _person(rng, k)
        if scenario == "uturn":
            way = _uturn(x, h, speed, going_in, look[0], rng)
        elif scenario == "linger":
            way = _linger(x, h, speed, going_in, look[0], rng)
        else:
            way = _straight(x, h, speed, going_in, rng.uniform(-0.08, 0.08) * h)
        scene.walkers.append(_walker(way, t, look, rng, sway=scenario == "linger"))
        t += int(rng.integers(35, 70))
    _finish(scene)
    if scenario == "noise":
        scene.noise, scene.flicker = 9.0, 0.03
    return scene


def _finish(scene: Scene) -> None:
    scene.n_frames = max(int(np.flatnonzero(~np.isnan(wk.ys))[-1]) for wk in scene.walkers) + 15
    for wk in scene.walkers:
        wk.xs, wk.ys = _pad(wk.xs, scene.n_frames), _pad(wk.ys, scene.n_frames)


def _winter_scene(scene: Scene, rng: np.random.Generator, k: float) -> Scene:
    """`lowcontrast`: single file in floor- or mat-coloured coats; `spacing`: pairs abreast."""
    w, h = scene.size
    tile = float(rng.uniform(105, 150))
    mat = tile * float(rng.uniform(0.45, 0.6))
    scene.floor = (tile, mat)
    scene.noise = 2.5
    t = int(rng.integers(0, 4))  # the first shopper arrives while the model settles
    if scene.scenario == "lowcontrast":
        for _ in range(12):
            going_in = bool(rng.random() < 0.5)
            speed = rng.uniform(2.5, 6.0) * k
            x = rng.uniform(0.25, 0.75) * w
            way = _straight(x, h, speed, going_in, rng.uniform(-0.08, 0.08) * h)
            wk = _walker(way, t, _person(rng, k), rng)
            _winter_look(wk, rng, tile, mat, plain=rng.random() < 0.85)
            scene.walkers.append(wk)
            t += int(rng.integers(30, 65))
    else:
        for _ in range(8):
            going_in = bool(rng.random() < 0.5)
            speed = rng.uniform(2.5, 6.0) * k
            a, b = _person(rng, k), _person(rng, k)
            # Shoulders touching up to one shoulder width of air between them.
            gap = rng.uniform(0.0, 1.0) * (a[0] + b[0])
            offset = (a[0] + b[0] + gap) / 2
            x = float(np.clip(rng.uniform(0.25, 0.75) * w, offset + 4, w - offset - 4))
            drift = rng.uniform(-0.04, 0.04) * h
            stagger = rng.uniform(-0.3, 0.3) * a[1]
            for dx, look, dy in ((-offset, a, 0.0), (offset, b, stagger)):
                # Each walks at their own pace (within 12%), so the pair slowly staggers.
                own = speed * rng.uniform(0.94, 1.06)
                wk = _walker(_straight(x + dx, h, own, going_in, drift, dy), t, look, rng)
                if rng.random() < 0.35:
                    _winter_look(wk, rng, tile, mat, plain=True)
                scene.walkers.append(wk)
            t += int(rng.integers(55, 90))
    _finish(scene)
    return scene


def _winter_look(
    wk: Walker, rng: np.random.Generator, tile: float, mat: float, plain: bool
) -> None:
    """A grey or dark coat within a few grey levels of the tiles or the mat, soft shadow."""
    if plain:
        target = tile if rng.random() < 0.6 else mat
        grey = target + rng.uniform(-6.0, 6.0)
        wk.color = tuple(float(grey + rng.uniform(-2.0, 2.0)) for _ in range(3))
        wk.texture = float(rng.uniform(3.0, 8.0))
        if rng.random() < 0.4:  # a hood or a grey hat: no dark hair to find either
            wk.hair = float(grey + rng.uniform(-8.0, 8.0))
    wk.shadow = (
        float(rng.uniform(-0.5, 0.5)),
        float(rng.uniform(-0.5, 0.5)),
        float(rng.uniform(0.12, 0.35)),
    )


def render(scene: Scene, video: Path) -> int:
    """Write the scene as an MJPG video; return the number of frames written."""
    w, h = scene.size
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (w, h))
    if not writer.isOpened():
        raise OSError(f"cannot write video {video}")
    rng = np.random.default_rng([99, scene.seed, SCENARIOS.index(scene.scenario)])
    floor = _floor(rng, w, h) if scene.floor is None else _winter_floor(rng, w, h, *scene.floor)
    ramp = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :, None]
    sprites = [_sprite(wk) for wk in scene.walkers]
    try:
        for f in range(scene.n_frames):
            level, grad = scene.gain(f)
            if scene.flicker:
                level *= 1.0 + rng.uniform(-scene.flicker, scene.flicker)
            frame = floor * (level * (1.0 + grad * ramp))
            for wk, (body, alpha, shadow) in zip(scene.walkers, sprites, strict=True):
                if not np.isnan(wk.ys[f]):
                    _paste(frame, body * level, alpha, shadow, wk.xs[f], wk.ys[f])
            frame += rng.standard_normal(frame.shape, dtype=np.float32) * scene.noise
            writer.write(np.clip(frame, 0, 255).astype(np.uint8))
    finally:
        writer.release()
    return scene.n_frames


def generate(scenario: str, seed: int, out_dir: Path, size: tuple[int, int] = (320, 240)) -> dict:
    """Render `scenario` into out_dir as VIDEO.avi + VIDEO.json; return the truth dict.

    The truth dict also carries ``video`` and ``truth`` (the two file paths).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    scene = build_scene(scenario, seed, size)
    stem = f"{scenario}-{seed}-{size[0]}x{size[1]}"
    video, truth_path = out_dir / f"{stem}.avi", out_dir / f"{stem}.json"
    render(scene, video)
    truth = scene.truth()
    truth_path.write_text(json.dumps(truth, indent=1))
    return {**truth, "video": str(video), "truth": str(truth_path)}


def _lighting_program(f: int) -> tuple[float, float]:
    # Nobody present: a slow dimming (clouds), a hold, a fast brighten with a daylight
    # gradient from one side, then a sudden switch of the shop lights.
    if f < 20:
        return 1.0, 0.0
    if f < 120:
        return 1.0 - 0.45 * (f - 20) / 100, 0.0
    if f < 150:
        return 0.55, 0.0
    if f < 175:
        u = (f - 150) / 25
        return 0.55 + 0.5 * u, 0.12 * u
    if f < 240:
        return 1.05, 0.12
    return 0.8, 0.05


def _person(rng: np.random.Generator, k: float) -> tuple[float, float]:
    half_w = rng.uniform(15.0, 21.0) * k
    return half_w, half_w * rng.uniform(0.55, 0.7)


def _straight(
    x: float, h: int, speed: float, going_in: bool, drift: float, dy: float = 0.0
) -> list[tuple[float, float, float]]:
    y0, y1 = (-40.0 - dy, h + 40.0 - dy) if going_in else (h + 40.0 + dy, -40.0 + dy)
    return [(0.0, x, y0), (abs(y1 - y0) / speed, x + drift, y1)]


def _uturn(x, h, speed, going_in, half_w, rng) -> list[tuple[float, float, float]]:
    # Steps over the line by up to ~0.8 shoulder width, pauses, walks back out.
    sign = 1.0 if going_in else -1.0
    start = h / 2 - sign * (h / 2 + 40.0)
    apex = h / 2 + sign * rng.uniform(0.3, 0.8) * 2 * half_w
    t1 = abs(apex - start) / speed
    t2 = t1 + rng.integers(0, 12)
    return [(0.0, x, start), (t1, x, apex), (t2, x, apex), (t2 + t1 * 1.1, x + 5, start)]


def _linger(x, h, speed, going_in, half_w, rng) -> list[tuple[float, float, float]]:
    # Walks up to the line, stands on it (swaying) for 1-3 s, then crosses or goes back.
    sign = 1.0 if going_in else -1.0
    start = h / 2 - sign * (h / 2 + 40.0)
    stand = h / 2 + rng.uniform(-0.5, 0.5) * half_w
    t1 = abs(stand - start) / speed
    t2 = t1 + rng.integers(25, 75)
    crosses = rng.random() < 0.5
    end = h / 2 + sign * (h / 2 + 40.0) if crosses else start
    return [
        (0.0, x, start),
        (t1, x, stand),
        (t2, x, stand),
        (t2 + abs(end - stand) / speed, x, end),
    ]


def _walker(way, t0: int, look, rng: np.random.Generator, sway: bool = False) -> Walker:
    times = np.array([p[0] for p in way]) + t0
    n = int(np.ceil(times[-1])) + 1
    f = np.arange(n, dtype=np.float64)
    xs = np.interp(f, times, [p[1] for p in way])
    ys = np.interp(f, times, [p[2] for p in way])
    if sway:  # people standing still still shift their weight
        xs += 1.5 * np.sin(f / 9.0 + rng.uniform(0, 6))
        ys += 1.0 * np.sin(f / 13.0 + rng.uniform(0, 6))
    xs[:t0], ys[:t0] = np.nan, np.nan
    color = tuple(float(c) for c in rng.uniform(20, 235, 3))
    return Walker(
        xs, ys, look[0], look[1], color, float(rng.uniform(15, 70)), int(rng.integers(1 << 30))
    )


def _pad(a: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    out[: min(n, a.size)] = a[:n]
    return out


def _floor(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    # Low-frequency mottling plus tile joints and a door mat: enough texture that a
    # frame difference is not trivially clean.
    base = rng.uniform(110, 160)
    mottle = cv2.resize(rng.normal(0, 12, (h // 16 + 1, w // 16 + 1)), (w, h))
    grain = rng.normal(0, 4, (h, w))
    floor = (base + mottle + grain).astype(np.float32)
    tile = max(8, h // 6)
    floor[::tile, :] -= 25
    floor[:, ::tile] -= 25
    floor[int(h * 0.42) : int(h * 0.58), int(w * 0.15) : int(w * 0.85)] *= 0.7
    tint = np.array(rng.uniform(0.9, 1.1, 3), dtype=np.float32)
    return floor[:, :, None] * tint


def _winter_floor(rng: np.random.Generator, w: int, h: int, tile: float, mat: float) -> np.ndarray:
    # Grey tiles with faint mottling and joints, and a dark doormat beside the line (on
    # the "out" side, touching it), as at a shop entrance on a wet day.
    mottle = cv2.resize(rng.normal(0, 5, (h // 16 + 1, w // 16 + 1)), (w, h))
    floor = (tile + mottle + rng.normal(0, 3, (h, w))).astype(np.float32)
    size = max(8, h // 6)
    floor[::size, :] -= 12
    floor[:, ::size] -= 12
    y0, y1 = int(h * 0.22), h // 2
    x0, x1 = int(w * 0.1), int(w * 0.9)
    floor[y0:y1, x0:x1] = mat + rng.normal(0, 4, (y1 - y0, x1 - x0))
    tint = np.array(rng.uniform(0.97, 1.03, 3), dtype=np.float32)
    return floor[:, :, None] * tint


def _sprite(wk: Walker) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(wk.seed)
    pad = int(wk.half_w * 0.6) + 3
    sw, sh = int(2 * (wk.half_w + pad)), int(2 * (wk.half_d + pad) + 2 * wk.half_d * 0.5)
    cx, cy = sw // 2, sh // 2
    mask = np.zeros((sh, sw), np.uint8)
    axes = (int(wk.half_w), int(wk.half_d))
    cv2.ellipse(mask, (cx, cy), axes, 0, 0, 360, 255, -1, cv2.LINE_AA)
    head = np.zeros_like(mask)
    r = max(3, int(wk.half_d * 0.75))
    cv2.circle(head, (cx, cy - int(wk.half_d * 0.1)), r, 255, -1, cv2.LINE_AA)
    body = np.empty((sh, sw, 3), np.float32)
    body[:] = wk.color
    body += rng.normal(0, wk.texture, (sh, sw, 1)).astype(np.float32)  # fabric texture
    hm = (head.astype(np.float32) / 255.0)[:, :, None]
    body = body * (1 - hm) + wk.hair * hm
    alpha = cv2.GaussianBlur(np.maximum(mask, head).astype(np.float32) / 255.0, (3, 3), 0)
    # Soft shadow cast by the shop lights (default: down-right, darkening by up to 40%).
    ox, oy, depth = wk.shadow
    m = np.float32([[1, 0, wk.half_w * ox], [0, 1, wk.half_d * oy]])
    shadow = cv2.warpAffine(alpha, m, (sw, sh))
    k = int(wk.half_w * 0.5) | 1
    shadow = cv2.GaussianBlur(shadow, (k, k), 0) * depth
    return body, alpha[:, :, None], shadow[:, :, None]


def _paste(frame, body, alpha, shadow, x: float, y: float) -> None:
    h, w = frame.shape[:2]
    sh, sw = alpha.shape[:2]
    x0, y0 = round(x) - sw // 2, round(y) - sh // 2
    fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(w, x0 + sw), min(h, y0 + sh)
    if fx0 >= fx1 or fy0 >= fy1:
        return
    sl = (slice(fy0 - y0, fy1 - y0), slice(fx0 - x0, fx1 - x0))
    roi = frame[fy0:fy1, fx0:fx1]
    roi *= 1.0 - shadow[sl]
    roi[:] = roi * (1.0 - alpha[sl]) + body[sl] * alpha[sl]
