"""A QR code drawn with half-block characters (two modules per character cell)."""

from __future__ import annotations

import segno
from textual.widgets import Static


def qr_text(data: str, border: int = 2) -> str:
    """The QR code of `data` (a full QR, never a Micro QR: tills read those badly) as half blocks."""
    rows = [list(r) for r in segno.make_qr(data, error="m").matrix_iter(border=border)]
    if len(rows) % 2:
        rows.append([0] * len(rows[0]))
    chars = {(1, 1): "█", (1, 0): "▀", (0, 1): "▄", (0, 0): " "}
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2], strict=True):
        lines.append("".join(chars[(bool(a), bool(b))] for a, b in zip(top, bottom, strict=True)))
    return "\n".join(lines)


class QrCode(Static):
    """Shows a QR code for `data` (the order code the till scans)."""

    def __init__(self, data: str, **kwargs) -> None:
        super().__init__(qr_text(data), markup=False, **kwargs)
