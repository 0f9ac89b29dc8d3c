"""A labelled corpus of Danish and English messages (high risk, everyday worries, traps) that
the risk rules are held to: `load()` for the tests and `make bench`."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def load() -> list[tuple[str, str, str]]:
    """(level, language, message) for every labelled line of messages.tsv."""
    rows = []
    for line in (HERE / "messages.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            level, lang, message = line.split("\t", 2)
            rows.append((level, lang, message))
    return rows


def scores(predicted: list[str], actual: list[str]) -> dict[str, tuple[float, float]]:
    """Recall and precision per level (of those labelled or predicted so)."""
    out = {}
    for level in ("high", "elevated", "none"):
        hits = sum(p == a == level for p, a in zip(predicted, actual, strict=True))
        labelled = sum(a == level for a in actual)
        flagged = sum(p == level for p in predicted)
        out[level] = (hits / labelled if labelled else 1.0, hits / flagged if flagged else 1.0)
    return out
