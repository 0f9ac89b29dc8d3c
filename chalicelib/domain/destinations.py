"""Where the service may text and call: a policy of the service, not of a provider."""

from __future__ import annotations

# Where the service may text and call: its own country unless ALLOWED_COUNTRY_CODES says more
# ("+45,+46"). Every other destination is refused before a provider is asked, so a typed-in
# callback number or a booking's phone cannot run up international or premium-rate charges.
DEFAULT_COUNTRY_CODES = ("+45",)
E164 = r"\+[1-9]\d{6,14}"  # a phone number as providers give and take it (re.fullmatch)


def destination_allowed(number: str, codes: tuple[str, ...]) -> bool:
    """True when the E.164 `number` is in one of the allowed countries."""
    return any(number.startswith(code) for code in codes)
