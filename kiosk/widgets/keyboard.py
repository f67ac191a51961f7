"""An on-screen keyboard for a touch screen: taps arrive as clicks, there is no real keyboard."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input

ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
EXTRA = ("@", ".", "-", "_")
BACKSPACE = "⌫"
SPACE = "␣"


class OnScreenKeyboard(Vertical):
    """Letter, digit and symbol keys that type into the focused input (keys never take focus)."""

    @dataclass
    class Typed(Message):
        """A key was tapped: `key` is a character, BACKSPACE or SPACE."""

        key: str

    def compose(self) -> ComposeResult:
        for row in ROWS:
            with Horizontal(classes="key-row"):
                for ch in row:
                    yield self._key(ch)
        with Horizontal(classes="key-row"):
            for ch in EXTRA:
                yield self._key(ch)
            yield self._key(SPACE, "key-space")
            yield self._key(BACKSPACE, "key-back")

    def _key(self, ch: str, extra: str = "") -> Button:
        key = Button(ch, classes=f"key {extra}".strip())
        key.can_focus = False  # the input being typed into keeps the focus
        # Every tap types, even the second of a quick "oo" (Button ignores taps while
        # it shows its 0.2 s pressed effect).
        key.active_effect_duration = 0
        key.key_char = ch  # type: ignore[attr-defined]
        return key

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.Typed(event.button.key_char))  # type: ignore[attr-defined]


def type_into(target: Input, key: str) -> None:
    """Apply an on-screen key to an input."""
    if key == BACKSPACE:
        target.value = target.value[:-1]
    elif key == SPACE:
        target.value += " "
    else:
        target.value += key
    target.cursor_position = len(target.value)
