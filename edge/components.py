"""Store config → device components: the one place that knows both config and `devices/`.

Each builder returns a factory (a fresh component per supervisor restart) wired
to the router's sink for that device. Counters that report cumulative totals are
read *without* delta post-processing: the router applies the persisted tracker,
so the conversion and its state commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from devices.protocol import Component, ReadingSink
from edge import config as c


def _serial(
    dev: c.TerabeeCounter | c.AsciiCounter | c.SerialScanner, sink: ReadingSink
) -> Component:
    from devices.serial_reader import SerialReader

    if isinstance(dev, c.TerabeeCounter):
        from devices.counters.terabee import TerabeeParser

        parser: Callable[[], Any] = partial(TerabeeParser, device=dev.name)
    elif isinstance(dev, c.AsciiCounter):
        from devices.counters.ascii_line import AsciiLineParser

        parser = partial(AsciiLineParser, device=dev.name)
    else:
        from devices.scanners.serial_scanner import ScannerParser

        parser = partial(
            ScannerParser,
            prefix=dev.prefix.encode(),
            suffix=dev.suffix,
            duplicate_window=dev.duplicate_window_ms / 1000,
            device=dev.name,
        )
    return SerialReader(dev.port, parser, sink, baudrate=dev.baudrate)


def _gpio(dev: c.GpioBeams, sink: ReadingSink, pin_factory: Any = None) -> Component:
    from devices.counters.gpio_beams import BeamPairCounter

    return BeamPairCounter(
        sink,
        pin_a=dev.pin_a,
        pin_b=dev.pin_b,
        sensor=dev.name,
        debounce=dev.bounce_ms / 1000,
        timeout=dev.crossing_timeout_ms / 1000,
        pin_factory=pin_factory,
    )


def _camera_counter(dev: c.CameraCounter, sink: ReadingSink) -> Component:
    from devices.camera.counter import CameraCounter, CameraSettings

    x1, y1, x2, y2 = dev.line
    settings = CameraSettings(
        source=int(dev.source) if dev.source.isdigit() else dev.source,
        line=(x1, y1, x2, y2),
        sensor=dev.name,
        in_side=dev.in_side,
        min_area=dev.min_area,
        max_area=dev.max_area,
        frame_size=(dev.width, dev.height),
    )
    return CameraCounter(settings, sink)


def _camera_scanner(dev: c.CameraScanner, sink: ReadingSink) -> Component:
    from devices.scanners.camera_qr import CameraQrScanner

    source = int(dev.source) if dev.source.isdigit() else dev.source
    return CameraQrScanner(
        source, sink, device=dev.name, duplicate_window=dev.duplicate_window_ms / 1000
    )


def component_factory(
    dev: c.DeviceConfig, sink: ReadingSink, *, pin_factory: Any = None
) -> Callable[[], Component]:
    """A zero-argument factory building the component for one configured device."""
    if isinstance(dev, c.TerabeeCounter | c.AsciiCounter | c.SerialScanner):
        return partial(_serial, dev, sink)
    if isinstance(dev, c.GpioBeams):
        return partial(_gpio, dev, sink, pin_factory)
    if isinstance(dev, c.CameraCounter):
        return partial(_camera_counter, dev, sink)
    if isinstance(dev, c.CameraScanner):
        return partial(_camera_scanner, dev, sink)
    raise TypeError(f"no component for device type {type(dev).__name__}")
