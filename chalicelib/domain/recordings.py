"""A voicemail's recording, for whoever may see its case, and its deletion at the provider.

Listening is reading the case: it goes through `casework.view_case`, so it is recorded among
the case's reads and refused to a practitioner outside the case's queues exactly as the case
is. Only a recording that is a voicemail on that very case, and still referenced by it (erasure
and retention remove the reference), is fetched: a recording SID from another case is a 404 and
asks the provider nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from chalicelib.domain import casework
from chalicelib.domain.errors import NotFound, ProviderUnavailable
from chalicelib.domain.model import Actor

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps

GONE = "No such recording."


def voicemail(deps: Deps, case_id: str, recording_sid: str, actor: Actor) -> bytes:
    """The recording's bytes (MP3); 404 for one that is not a voicemail of this case (any more)."""
    case = casework.view_case(deps, case_id, actor)
    if not any(
        e.status == "voicemail" and e.provider_id == recording_sid and e.media
        for e in case.timeline
    ):
        raise NotFound(GONE)
    try:
        data = deps.recordings.fetch(recording_sid)
    except Exception as error:
        raise ProviderUnavailable("Twilio did not answer; try again.") from error
    if data is None:
        raise NotFound(GONE)
    return data


def delete(deps: Deps, recording_sids: Iterable[str | None]) -> int:
    """Each recording deleted at the provider (one deleted already is fine); how many. A
    provider that fails stops the erasure with a retryable error, so nothing is left behind:
    erasing again deletes what is left."""
    count = 0
    for sid in filter(None, recording_sids):
        try:
            deps.recordings.delete(sid)
        except Exception as error:
            raise ProviderUnavailable(
                "Twilio did not delete a voicemail recording; please retry the erasure."
            ) from error
        count += 1
    return count
