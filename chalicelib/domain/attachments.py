"""A received email's attachment, for whoever may see its case: the bytes from the blob store.

Reading one is reading the case: it goes through `casework.view_case`, so it is recorded among
the case's reads (a manager sees who opened a citizen's CV), and a practitioner outside the
case's queues is refused exactly as for the case itself.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalicelib.domain import casework
from chalicelib.domain.errors import NotFound
from chalicelib.domain.model import Actor, Attachment

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps

INDEX = r"0|[1-9][0-9]{0,3}"  # as the case's view numbers them; "²" is no number


def attachment(
    deps: Deps, case_id: str, interaction_id: str, index: str, actor: Actor
) -> tuple[Attachment, bytes]:
    """(the attachment's facts, its bytes); 404 for one that is not there (any more: erased or
    purged attachments lose their key and their bytes)."""
    case = casework.view_case(deps, case_id, actor)
    entry = next((i for i in case.timeline if i.id == interaction_id), None)
    found = entry.email.attachments if entry and entry.email else ()
    if not re.fullmatch(INDEX, index) or int(index) >= len(found) or found[int(index)].key is None:
        raise NotFound("No such attachment.")
    chosen = found[int(index)]
    try:
        return chosen, deps.blobs.get(chosen.key or "")
    except FileNotFoundError:
        raise NotFound("No such attachment.") from None
