"""One NPS question: "How likely are you to recommend us?", answered with one tap 0..10."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label


class NpsQuestion(Vertical):
    """The question and eleven buttons; the answer is recorded for `touchpoint`."""

    def __init__(self, touchpoint: str = "kiosk") -> None:
        super().__init__(id="nps")
        self.touchpoint = touchpoint

    def compose(self) -> ComposeResult:
        tr = self.app.tr  # type: ignore[attr-defined]
        yield Label(tr("How likely are you to recommend us to a friend?"), id="nps-question")
        with Horizontal(id="nps-scores"):
            for score in range(11):
                yield Button(str(score), id=f"nps-{score}", classes="nps")
        with Horizontal(id="nps-scale"):
            yield Label(tr("Not likely"), id="nps-low")
            yield Label(tr("Very likely"), id="nps-high")

    @on(Button.Pressed, ".nps")
    def answer(self, event: Button.Pressed) -> None:
        event.stop()
        score = int((event.button.id or "nps-0")[len("nps-") :])
        self.app.record_nps(score, self.touchpoint)  # type: ignore[attr-defined]
        self.query_one("#nps-question", Label).update(self.app.tr("Thank you for your answer!"))  # type: ignore[attr-defined]
        self.query_one("#nps-scores").display = False
        self.query_one("#nps-scale").display = False
