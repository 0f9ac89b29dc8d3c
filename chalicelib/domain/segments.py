"""How many SMS parts a text costs: GSM-7 when every character is in the GSM 03.38 basic set
or its extension table (which costs two septets: an escape and the character), else UCS-2.
Danish æ ø å Æ Ø Å are in the basic set; emoji are not, and one turns the whole text to UCS-2.
UCS-2 counts UTF-16 code units, so an emoji outside the BMP counts two."""

from __future__ import annotations

from typing import Literal

BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = set("\f^{}\\[~]|€")
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}  # (one part, each part of several)


def encoding(text: str) -> Literal["GSM-7", "UCS-2"]:
    return "GSM-7" if all(ch in BASIC or ch in EXTENSION for ch in text) else "UCS-2"


def length(text: str) -> int:
    """Septets for GSM-7, UTF-16 code units for UCS-2."""
    if encoding(text) == "GSM-7":
        return sum(2 if ch in EXTENSION else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def count(text: str) -> int:
    """SMS parts: one up to 160 (70), else 153 (67) a part."""
    single, part = LIMITS[encoding(text)]
    size = length(text)
    return 1 if size <= single else -(-size // part)
