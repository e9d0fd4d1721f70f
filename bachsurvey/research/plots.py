"""The dashboard's plots, drawn on the server with matplotlib (Agg) and inlined as SVG.

Figures are built with the object API (``matplotlib.figure.Figure``, never pyplot), so requests
in several threads do not share pyplot's global state. ``svg`` writes text as text (smaller,
selectable), prefixes every id with the plot's name (several plots share one page) and gives
each plot an accessible name; ``png`` is there for anyone who wants an image file.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bachsurvey.research.stats import ALL, BACHBOT_2016, CATEGORIES, EXPERIENCES, AnswerRecord  # noqa: E402

INK = "#1f1b16"
MUTED = "#5b544b"
ACCENT = "#7a3b12"
LINE = "#d9d1c3"
Size = tuple[float, float]
# Inches. The wide figure is the desktop's and the downloads'; a phone gets the narrow one (CSS
# picks), drawn at a size whose text is as large on a 390-pixel screen as the wide one's on a
# desktop, with horizontal bars so that no label has to squeeze under a bar.
WIDE: Size = (6.4, 3.4)
NARROW: Size = (4.0, 4.2)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_ID = re.compile(r'(\bid="|href="#|url\(#)([^"#)]+)')
_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')
# matplotlib's one stylesheet: the page's CSP allows no inline <style>, so the root says it.
_STYLE_ELEMENT = '<style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}</style>'
RC = {
    "font.size": 10,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
}


def _figure(size: Size = WIDE) -> Figure:
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=size, layout="constrained")
        fig.add_subplot()
    return fig


def svg(fig: Figure, *, title: str, salt: str) -> str:
    """The figure as an inline ``<svg>`` element with ``title`` as its accessible name."""
    buffer = io.StringIO()
    with matplotlib.rc_context({**RC, "svg.hashsalt": salt}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Title": title})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML declaration and doctype
    # Several plots share a page: prefix every id (and every reference to one) with ``salt``.
    text = _ID.sub(lambda m: f"{m.group(1)}{salt}-{m.group(2)}", text)
    opening = text.index(">") + 1
    label = escape(title)
    root = f'<svg role="img" aria-label="{label}" stroke-linejoin="round" stroke-linecap="butt" '
    head = text[:opening].replace("<svg ", root, 1)
    body = _METADATA.sub("", text[opening:]).replace(_STYLE_ELEMENT, "")  # keeps its <title>
    return _presentation_attributes(head + body)


def _presentation_attributes(text: str) -> str:
    """``style="fill: #fff; stroke-width: 0.8"`` as ``fill="#fff" stroke-width="0.8"``: the
    dashboard's CSP allows no inline style, and every property matplotlib writes (fill, stroke,
    opacity, font-size, font-family, text-anchor...) is also an SVG presentation attribute."""

    def attributes(match: re.Match[str]) -> str:
        declarations = (part.split(":", 1) for part in match.group(1).split(";") if ":" in part)
        return "".join(f' {name.strip()}="{value.strip()}"' for name, value in declarations)

    return _STYLE_ATTRIBUTE.sub(attributes, text)


def png(fig: Figure, dpi: int = 144) -> bytes:
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def _legend(fig: Figure, axes: Sequence[Any] | None = None) -> None:
    """One legend above the plot, outside it, so that it never hides a bar."""
    handles, labels = [], []
    for ax in axes or fig.axes:
        more = ax.get_legend_handles_labels()
        handles += more[0]
        labels += more[1]
    columns = 2 if _is_narrow(fig) else 4
    fig.legend(
        handles, labels, loc="outside upper center", ncols=columns, fontsize=9, frameon=False
    )


def _empty(fig: Figure, message: str = "No answers yet") -> Figure:
    ax = fig.axes[0]
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, fontsize=12)
    return fig


def _accuracy_bars(fig: Figure, cells: Sequence[dict[str, Any]], labels: Sequence[str]) -> None:
    """Bars of accuracy with Wilson 95% error bars, n beside each label, chance at 0.5; upright
    on a wide figure, lying down (labels on the left, first at the top) on a narrow one."""
    ax = fig.axes[0]
    x = np.arange(len(cells))
    acc = np.array([c["accuracy"] if c["n"] else np.nan for c in cells], dtype=float)
    lo = np.array([c["wilson"][0] if c["n"] else np.nan for c in cells], dtype=float)
    hi = np.array([c["wilson"][1] if c["n"] else np.nan for c in cells], dtype=float)
    # Clipped at 0: at 100% the Wilson bound can be 1 - 1e-16, and matplotlib refuses a
    # negative error.
    error = [np.clip(acc - lo, 0, None), np.clip(hi - acc, 0, None)]
    if _is_narrow(fig):
        ax.barh(x, np.nan_to_num(acc), color=ACCENT, height=0.6, label="ours (Wilson 95%)")
        ax.errorbar(acc, x, xerr=error, fmt="none", ecolor=INK, capsize=3, lw=1.2)
        ax.axvline(0.5, color=MUTED, ls="--", lw=1, label="chance")
        names = [f"{label} (n={c['n']})" for label, c in zip(labels, cells, strict=True)]
        ax.set_yticks(x, names)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("proportion choosing Bach")
        ax.grid(axis="x", color=LINE, lw=0.6)
    else:
        ax.bar(x, np.nan_to_num(acc), color=ACCENT, width=0.6, label="ours (Wilson 95%)")
        ax.errorbar(x, acc, yerr=error, fmt="none", ecolor=INK, capsize=4, lw=1.2)
        ax.axhline(0.5, color=MUTED, ls="--", lw=1, label="chance")
        ax.set_xticks(x, [f"{label}\nn={c['n']}" for label, c in zip(labels, cells, strict=True)])
        ax.set_ylim(0, 1)
        ax.set_ylabel("proportion choosing Bach")
        ax.grid(axis="y", color=LINE, lw=0.6)
    ax.set_axisbelow(True)


def _is_narrow(fig: Figure) -> bool:
    return fig.get_figwidth() < WIDE[0]


def accuracy_by_category(cells: Sequence[dict[str, Any]], size: Size = WIDE) -> Figure:
    """Per category (all experience bands), with BachBot 2016's figure as a marker."""
    fig = _figure(size)
    chosen = [_find(cells, c, ALL) for c in (*CATEGORIES, ALL)]
    _accuracy_bars(fig, chosen, [*CATEGORIES, "all"])
    old = [BACHBOT_2016["accuracy"][ALL][c] for c in CATEGORIES]
    where = range(len(CATEGORIES))
    xy = (old, where) if _is_narrow(fig) else (where, old)
    fig.axes[0].plot(*xy, "D", mfc="white", mec=INK, ms=6, label="BachBot 2016")
    _legend(fig)
    return fig


def accuracy_by_experience(cells: Sequence[dict[str, Any]], size: Size = WIDE) -> Figure:
    fig = _figure(size)
    chosen = [_find(cells, ALL, e) for e in (*EXPERIENCES, ALL)]
    _accuracy_bars(fig, chosen, [*EXPERIENCES, "all"])
    _legend(fig)
    return fig


def answers_over_time(records: Sequence[AnswerRecord], size: Size = WIDE) -> Figure:
    """Answers per day (bars) and in total (line)."""
    fig = _figure(size)
    days = Counter(r.created_at.date() for r in records if r.created_at is not None)
    if not days:
        return _empty(fig)
    ax = fig.axes[0]
    dates = sorted(days)
    counts = np.array([days[d] for d in dates])
    ax.bar(dates, counts, color=ACCENT, width=0.8, label="per day")
    ax.set_ylabel("answers per day")
    total = ax.twinx()
    total.plot(dates, np.cumsum(counts), color=INK, marker="o", ms=3, lw=1.5, label="in total")
    total.set_ylabel("answers in total")
    total.set_ylim(bottom=0)
    total.spines["right"].set_visible(True)
    locator = mdates.AutoDateLocator(maxticks=4 if _is_narrow(fig) else 8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    _legend(fig, [ax, total])
    return fig


def response_times(records: Sequence[AnswerRecord], size: Size = WIDE) -> Figure:
    """Histogram of response times (from both clips heard to the answer), median marked."""
    fig = _figure(size)
    seconds = np.array([r.response_ms / 1000 for r in records], dtype=float)
    if not len(seconds):
        return _empty(fig)
    ax = fig.axes[0]
    top = max(float(np.percentile(seconds, 99)), 1.0)
    shown = seconds[seconds <= top]
    ax.hist(shown, bins=min(40, max(5, len(shown) // 5)), color=ACCENT, edgecolor="white")
    median = float(np.median(seconds))
    ax.axvline(median, color=INK, ls="--", lw=1.2, label=f"median {median:.1f} s")
    hidden = len(seconds) - len(shown)
    if hidden:
        ax.plot([], [], " ", label=f"{hidden} slower beyond {top:.0f} s not shown")
    _legend(fig)
    ax.set_xlabel("seconds from both clips heard to the answer", wrap=True)
    ax.set_ylabel("answers")
    return fig


def _find(cells: Sequence[dict[str, Any]], category: str, experience: str) -> dict[str, Any]:
    return next(c for c in cells if c["category"] == category and c["experience"] == experience)


Builder = Callable[[dict[str, Any], Sequence[AnswerRecord], Size], Figure]
# Name -> (title, caption, builder from the summary and the records kept). The name is the
# download's URL (/research/plots/<name>.svg) and the prefix of the inline SVG's ids.
PLOTS: dict[str, tuple[str, str, Builder]] = {
    "category": (
        "Accuracy by category",
        "Proportion of answers choosing Bach, with Wilson 95% intervals; diamonds: BachBot "
        "2016 (same question, different design).",
        lambda result, kept, size: accuracy_by_category(result["cells"], size),
    ),
    "experience": (
        "Accuracy by music experience",
        "All categories together, with Wilson 95% intervals.",
        lambda result, kept, size: accuracy_by_experience(result["cells"], size),
    ),
    "time": (
        "Answers over time",
        "Answers kept under the current exclusions, per day (UTC) and in total.",
        lambda result, kept, size: answers_over_time(kept, size),
    ),
    "response": (
        "Response times",
        "Time from both clips heard to the answer, for the answers kept.",
        lambda result, kept, size: response_times(kept, size),
    ),
}
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def dashboard_plots(result: dict[str, Any], kept: Sequence[AnswerRecord]) -> list[dict[str, str]]:
    """The dashboard's plots: name, title, caption, and inline SVG wide (``svg``) and narrow
    (``svg_narrow``, for phones)."""
    out = []
    for name, (title, caption, build) in PLOTS.items():
        wide, narrow = build(result, kept, WIDE), build(result, kept, NARROW)
        out.append(
            {
                "name": name,
                "title": title,
                "caption": caption,
                "svg": svg(wide, title=title, salt=name),
                "svg_narrow": svg(narrow, title=title, salt=f"{name}-narrow"),
            }
        )
    return out


def download(name: str, fmt: str, result: dict[str, Any], kept: Sequence[AnswerRecord]) -> bytes:
    """Plot ``name`` as a file of its own: the wide figure, as matplotlib writes it (a
    standalone SVG with its stylesheet, or a PNG at 144 dpi)."""
    if name not in PLOTS:
        raise ValueError(f"unknown plot {name!r}; use one of {sorted(PLOTS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown plot format {fmt!r}; use one of {sorted(FORMATS)}")
    title, _, build = PLOTS[name]
    fig = build(result, kept, WIDE)
    if fmt == "png":
        return png(fig)
    buffer = io.BytesIO()
    with matplotlib.rc_context({**RC, "svg.hashsalt": name}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Title": title})
    return buffer.getvalue()
