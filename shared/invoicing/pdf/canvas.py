"""One page's content stream, drawn in millimetres from the top left corner of an A4 page."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from shared.invoicing.pdf import fonts
from shared.invoicing.pdf.fonts import EmbeddedFont

A4_WIDTH = 595.28
A4_HEIGHT = 841.89
POINTS_PER_MM = 72 / 25.4
Color = tuple[float, float, float]


class Align(Enum):
    LEFT = "left"
    RIGHT = "right"
    CENTER = "center"


@dataclass(frozen=True)
class Style:
    """A text style: the font resource name (F1 regular, F2 bold), size in points, colour."""

    resource: str
    size: float
    color: Color

    @property
    def font(self) -> EmbeddedFont:
        return fonts.bold() if self.resource == "F2" else fonts.regular()

    def width(self, text: str) -> float:
        """Width in millimetres of a text that fits the font."""
        return self.font.width(text, self.size) / POINTS_PER_MM


def regular(size: float, color: Color) -> Style:
    return Style("F1", size, color)


def bold(size: float, color: Color) -> Style:
    return Style("F2", size, color)


class Canvas:
    def __init__(self) -> None:
        self._operators: list[str] = []
        self._in_text = False
        self._font: tuple[str, float] | None = None
        self._fill: Color | None = None
        self.shown: dict[str, set[str]] = {"F1": set(), "F2": set()}

    def text(self, x: float, baseline: float, text: str, style: Style) -> None:
        """Text from x on a baseline; characters the font lacks become their nearest relative."""
        self.aligned(x, baseline, style.font.fit(text), style, Align.LEFT)

    def right(self, x: float, baseline: float, text: str, style: Style) -> None:
        self.aligned(x, baseline, style.font.fit(text), style, Align.RIGHT)

    def aligned(self, x: float, baseline: float, fitted: str, style: Style, align: Align) -> None:
        """A text that already fits the font, anchored at x by its left, right or centre."""
        if align is not Align.LEFT:
            width = style.width(fitted)
            x -= width if align is Align.RIGHT else width / 2
        operators = self._operators
        if not self._in_text:
            operators.append("BT")
            self._in_text = True
        if self._font != (style.resource, style.size):
            self._font = (style.resource, style.size)
            operators.append(f"/{style.resource} {style.size:g} Tf")
        self._set_fill(style.color)
        self.shown[style.resource].update(fitted)
        x_pt = x * POINTS_PER_MM
        y_pt = A4_HEIGHT - baseline * POINTS_PER_MM
        operators.append(f"1 0 0 1 {x_pt:.2f} {y_pt:.2f} Tm <{style.font.encode(fitted)}> Tj")

    def rectangle(self, x: float, top: float, width: float, height: float, fill: Color) -> None:
        self._end_text()
        self._set_fill(fill)
        bottom = A4_HEIGHT - (top + height) * POINTS_PER_MM
        self._operators.append(
            f"{x * POINTS_PER_MM:.2f} {bottom:.2f} "
            f"{width * POINTS_PER_MM:.2f} {height * POINTS_PER_MM:.2f} re f"
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float, color: Color) -> None:
        """A straight line; width in points."""
        self._end_text()
        red, green, blue = color
        self._operators.append(
            f"{red:g} {green:g} {blue:g} RG {width:g} w "
            f"{x1 * POINTS_PER_MM:.2f} {A4_HEIGHT - y1 * POINTS_PER_MM:.2f} m "
            f"{x2 * POINTS_PER_MM:.2f} {A4_HEIGHT - y2 * POINTS_PER_MM:.2f} l S"
        )

    def content(self) -> bytes:
        self._end_text()
        return "\n".join(self._operators).encode("ascii")

    def _set_fill(self, color: Color) -> None:
        if self._fill != color:
            self._fill = color
            red, green, blue = color
            self._operators.append(f"{red:g} {green:g} {blue:g} rg")

    def _end_text(self) -> None:
        if self._in_text:
            self._operators.append("ET")
            self._in_text = False
