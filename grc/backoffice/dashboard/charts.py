"""Bar charts drawn on the server as inline SVG: no JavaScript, nothing fetched elsewhere. The
SVG is an image (role="img", a <title> and an aria-label); the page gives the same numbers
in a table below each chart for screen readers and for reading exact values."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from grc.backoffice.dashboard.selectors import Series

# Colours distinguishable by most colour-blind readers (Okabe–Ito), dark enough on white.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000", "#999999"]


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _nice_max(value: float) -> float:
    """A round top for the axis (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".replace(".", ",")


def _open(title: str, width: int, height: int, chart_id: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-labelledby="{chart_id}-title">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]


def _legend(series: Series, y: int, width: int) -> tuple[list[str], int]:
    """The series' colours and names, wrapped on as many lines as needed; and that number."""
    parts: list[str] = []
    if len(series.columns) < 2:
        return parts, 0
    x, lines = 10, 1
    for index, name in enumerate(series.columns):
        step = 24 + 7 * len(name)
        if x > 10 and x + step > width:
            x, y, lines = 10, y + 20, lines + 1
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour(index)}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 11}" class="chart-legend">{escape(name)}</text>')
        x += step
    return parts, lines


def stacked_columns(series: Series, *, title: str, chart_id: str) -> SafeString:
    """Vertical bars, one per row (a week), stacked by column (a channel, a démarche)."""
    width, height, left, top, bottom = 720, 300, 40, 16, 70
    legend, legend_rows = _legend(series, height + 2, width)
    total_height = height + 20 * legend_rows
    plot_h = height - top - bottom
    top_value = _nice_max(max((series.row_total(r) for r in series.rows), default=0))
    slot = (width - left - 10) / max(len(series.rows), 1)
    bar_w = slot * 0.7
    parts = _open(title, width, total_height, chart_id)
    middle = top_value / 2
    ticks = (0, middle, top_value) if float(middle).is_integer() else (0, top_value)
    for tick in ticks:
        y = top + plot_h - plot_h * tick / top_value
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid"/>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" class="chart-axis">'
            f"{_number(tick)}</text>"
        )
    for i, row in enumerate(series.rows):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        for j, column in enumerate(series.columns):
            value = series.value(row, column)
            if not value:
                continue
            h = plot_h * value / top_value
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colour(j)}"><title>{escape(row)} – {escape(column)} : '
                f"{_number(value)}</title></rect>"
            )
        label_x, label_y = x + bar_w / 2, top + plot_h + 10
        parts.append(
            f'<text x="{label_x:.1f}" y="{label_y}" class="chart-axis" text-anchor="end" '
            f'transform="rotate(-45 {label_x:.1f} {label_y})">{escape(row[:5])}</text>'
        )
    parts += legend
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text in it is escaped above


def horizontal_bars(series: Series, *, title: str, chart_id: str) -> SafeString:
    """Horizontal bars, one group per row (a status, a démarche), one bar per column."""
    width, label_w, bar_h, gap = 720, 260, 14, 10
    n_cols = max(len(series.columns), 1)
    group_h = n_cols * bar_h + gap
    plot_bottom = 10 + max(len(series.rows), 1) * group_h
    legend, legend_rows = _legend(series, plot_bottom + 4, width)
    height = plot_bottom + 22 * legend_rows
    plot_w = width - label_w - 60
    top_value = _nice_max(max((v for v in series.values.values()), default=0))
    parts = _open(title, width, height, chart_id)
    for i, row in enumerate(series.rows):
        y0 = 10 + i * group_h
        label = row if len(row) <= 38 else row[:37] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y0 + n_cols * bar_h / 2 + 4:.1f}" text-anchor="end" '
            f'class="chart-axis">{escape(label)}</text>'
        )
        for j, column in enumerate(series.columns):
            value = series.value(row, column)
            w = plot_w * value / top_value
            y = y0 + j * bar_h
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                f'fill="{colour(j)}"><title>{escape(row)} – {escape(column)} : '
                f"{_number(value)}</title></rect>"
            )
            parts.append(
                f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 4}" class="chart-value">'
                f"{_number(value)}</text>"
            )
    parts += legend
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text in it is escaped above
