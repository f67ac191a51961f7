"""The order code's QR on screen decodes back to the code (read with OpenCV, as a till would)."""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.widgets.qr import qr_text

CELL = 8  # pixels per module


def render(text: str) -> np.ndarray:
    """Draw half-block text as a black-on-white image, one module per CELL×CELL pixels."""
    lines = text.split("\n")
    width = max(len(line) for line in lines)
    img = np.full((len(lines) * 2 * CELL, width * CELL), 255, np.uint8)
    for y, line in enumerate(lines):
        for x, ch in enumerate(line):
            top = ch in "█▀"
            bottom = ch in "█▄"
            if top:
                img[2 * y * CELL : (2 * y + 1) * CELL, x * CELL : (x + 1) * CELL] = 0
            if bottom:
                img[(2 * y + 1) * CELL : (2 * y + 2) * CELL, x * CELL : (x + 1) * CELL] = 0
    return cv2.copyMakeBorder(img, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=255)


def test_order_code_qr_decodes_to_the_code():
    code = "TPO-B25TXQXZ"
    data, _points, _ = cv2.QRCodeDetector().detectAndDecode(render(qr_text(code)))
    assert data == code
