"""Number formats of the researchers' dashboard: proportions, intervals, p-values."""

from __future__ import annotations

from collections.abc import Sequence

from django import template

register = template.Library()
DASH = "—"


@register.filter
def pct(value: float | None, digits: int = 1) -> str:
    """0.5923 -> "59.2%"; None (an empty cell) -> a dash."""
    if value is None:
        return DASH
    return f"{100 * value:.{int(digits)}f}%"


@register.filter
def proportion(value: float | None) -> str:
    """0.5923 -> "0.59", as in BachBot's table."""
    return DASH if value is None else f"{value:.2f}"


@register.filter
def interval(value: Sequence[float] | None) -> str:
    """[0.557, 0.623] -> "55.7–62.3%"."""
    if not value:
        return DASH
    return f"{100 * value[0]:.1f}–{100 * value[1]:.1f}%"


@register.filter
def unit_interval(value: Sequence[float] | None) -> str:
    """[0.7012, 0.8954] -> "0.70–0.90"."""
    if not value:
        return DASH
    return f"{value[0]:.2f}–{value[1]:.2f}"


@register.filter
def pvalue(value: float | None) -> str:
    if value is None:
        return DASH
    if value < 0.001:
        return "< 0.001"
    return f"{value:.3f}"


@register.filter
def signed(value: float | None) -> str:
    """d′ with two decimals."""
    return DASH if value is None else f"{value:.2f}"


@register.filter
def short_id(value: object) -> str:
    return str(value)[:8]
