"""Canned responses: reply texts practitioners start from. Shared ones are managed by managers,
personal ones by their owner. A body may hold placeholders, filled when the reply is sent:
`{practitioner}` (the sender's display name), `{next_opening}` ("tomorrow at 09:00", in the
service's time zone) and `{first_name}`, which the practitioner gives with the reply: we hold no
name of the citizen we could vouch for, and a name typed by whoever booked a webinar must not be
sent to an address. A placeholder left unfilled refuses the reply: a citizen never gets braces.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chalicelib.domain import autoreplies
from chalicelib.domain.errors import Forbidden, InvalidInput, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.model import Actor, CannedResponse

if TYPE_CHECKING:
    from chalicelib.domain.ports import CannedStore, Deps

PLACEHOLDERS = ("first_name", "next_opening", "practitioner")
PLACEHOLDER = r"\{([A-Za-z_]+)\}"
CANNED_ID = r"[0-9a-f]{20}"  # what `new_id` gives out: anything else was never made


def create(deps: Deps, actor: Actor, fields: dict[str, Any]) -> CannedResponse:
    canned = _checked(actor, new_id(), fields)
    store: CannedStore = deps.store
    store.save_canned(canned)
    return canned


def edit(deps: Deps, actor: Actor, canned_id: str, fields: dict[str, Any]) -> CannedResponse:
    """The same rules as `create`: a shared one by a manager, a personal one by its owner only.
    Someone else's personal one is not found (it lives under its owner, never looked up by
    anyone else), so an edit never says whether a forged id exists; one deleted meanwhile is
    not brought back."""
    canned = _checked(actor, canned_id, fields)
    store: CannedStore = deps.store
    if not re.fullmatch(CANNED_ID, canned_id) or not store.replace_canned(canned):
        raise NotFound("No such canned response.")
    return canned


def _checked(actor: Actor, canned_id: str, fields: dict[str, Any]) -> CannedResponse:
    """The canned response these fields make, if this actor may keep it: shared ones are for
    managers only; a body's placeholders must be ones we fill."""
    shared = bool(fields.get("shared", False))
    if shared and not actor.is_manager:
        raise Forbidden("Only managers manage shared canned responses.", code="managers_only")
    unknown = sorted(set(re.findall(PLACEHOLDER, fields["body"])) - set(PLACEHOLDERS))
    if unknown:
        raise InvalidInput(
            f"Unknown placeholder {{{unknown[0]}}}; use {', '.join(PLACEHOLDERS)}.",
            code="unknown_placeholder",
        )
    return CannedResponse(
        canned_id, fields["title"], fields["body"], None if shared else actor.user_id
    )


def available(deps: Deps, actor: Actor) -> list[CannedResponse]:
    """The shared ones, then my own."""
    store: CannedStore = deps.store
    return store.canned_of(None) + store.canned_of(actor.user_id)


def remove(deps: Deps, actor: Actor, canned_id: str, *, shared: bool) -> None:
    if shared and not actor.is_manager:
        raise Forbidden("Only managers manage shared canned responses.", code="managers_only")
    store: CannedStore = deps.store
    if not store.delete_canned(None if shared else actor.user_id, canned_id):
        raise NotFound("No such canned response.")


def find(deps: Deps, actor: Actor, canned_id: str) -> CannedResponse:
    """One of mine or a shared one; another practitioner's own is not found."""
    store: CannedStore = deps.store
    canned = store.get_canned(actor.user_id, canned_id) or store.get_canned(None, canned_id)
    if canned is None:
        raise InvalidInput("No such canned response.", code="unknown_canned")
    return canned


def fill(
    deps: Deps, actor: Actor, body: str, first_name: str | None, language: str | None = None
) -> str:
    """The reply's placeholders filled, the opening in the case's `language`; any left refuses
    it (400 `unfilled_placeholder`)."""
    values: dict[str, str] = {}
    names = set(re.findall(PLACEHOLDER, body))
    words = deps.wording()
    language = words.language(language)
    if "practitioner" in names:
        profile = None if actor.is_manager else deps.store.get_practitioner(actor.user_id)
        values["practitioner"] = (
            profile.display_name if profile else words.text(language, "service_name")
        )
    if "next_opening" in names:
        opening = autoreplies.next_opening(words, language, deps.hours(), deps.clock())
        if opening:
            values["next_opening"] = opening
    if first_name:
        values["first_name"] = first_name
    missing = sorted(names - set(values))
    if missing:
        raise InvalidInput(f"Fill in {{{missing[0]}}} before sending.", code="unfilled_placeholder")
    return re.sub(PLACEHOLDER, lambda m: values[m.group(1)], body)
