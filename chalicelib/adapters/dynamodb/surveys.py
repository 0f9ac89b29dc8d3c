"""Storage for satisfaction questions: `SURVEY#<key>` items (a phone number's latest question,
or a link token's hash) that expire with DynamoDB's TTL, and a once-per-case marker
`SURVEY#case#<id>` that makes a second ask of one case (closed, reopened, closed) a no-op and
names the question's key, so erasure can remove the question with the case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb.base import Cancelled, StoreBase, put, update
from chalicelib.adapters.dynamodb.codec import case_key, iso, parse_iso
from chalicelib.adapters.dynamodb.items import interaction_item
from chalicelib.domain.model import Interaction, Survey


def survey_key(key: str) -> dict[str, str]:
    return {"pk": f"SURVEY#{key}", "sk": "SURVEY"}


class DynamoSurveys(StoreBase):
    def start_survey(self, key: str, survey: Survey, expires: datetime) -> bool:
        ttl = int(expires.timestamp())
        marker = {**survey_key(f"case#{survey.case_id}"), "type": "survey_marker", "key": key}
        item = {
            **survey_key(key),
            "type": "survey",
            "case_id": survey.case_id,
            "channel": survey.channel,
            "asked_at": iso(survey.asked_at),
            "practitioner": survey.practitioner,
            "language": survey.language,
            "expires_at": ttl,
        }
        try:
            self._transact(
                [
                    ("marker", put(self.table, {**marker, "expires_at": ttl})),
                    ("survey", put(self.table, item, condition=None)),
                ]
            )
        except Cancelled as lost:
            if "marker" in lost.failed:
                return False
            raise
        return True

    def forget_survey(self, case_id: str) -> None:
        """The case's open question goes (its marker names it); the marker stays, so the case
        is never asked again. Conditional on the case: a newer question under the same key (a
        number's latest) belongs to someone else now."""
        marker = self._get(survey_key(f"case#{case_id}"))
        if marker is not None and marker.get("key"):
            self._delete(survey_key(marker["key"]), "case_id = :case", {":case": case_id})

    def find_survey(self, key: str, now: datetime) -> Survey | None:
        item = self._get(survey_key(key))
        if item is None or item.get("type") != "survey":
            return None
        if int(item["expires_at"]) <= now.timestamp():  # TTL deletes within days, not at once
            return None
        return _survey_from(item)

    def answer_survey(self, key: str, rating: int, answered_by: str, comment: Interaction) -> bool:
        try:
            self._transact(
                [
                    (
                        "survey",
                        update(
                            self.table,
                            survey_key(key),
                            "SET rating = :r, answered_by = :by",
                            {":r": rating, ":by": answered_by, ":survey": "survey"},
                            "#type = :survey AND attribute_not_exists(rating)",
                            {"#type": "type"},
                        ),
                    ),
                    ("event", put(self.table, interaction_item(comment))),
                    # the case holds its rating too: the export of the week it was opened in
                    # shows it, whichever week the answer came in
                    (
                        "case",
                        update(
                            self.table,
                            case_key(comment.case_id),
                            "SET rating = :r",
                            {":r": rating},
                            "attribute_exists(pk)",
                        ),
                    ),
                ]
            )
        except Cancelled as lost:
            if lost.failed <= {"survey", "case"}:  # answered already, or the case is erased
                return False
            raise
        return True


def _survey_from(item: dict[str, Any]) -> Survey:
    return Survey(
        case_id=item["case_id"],
        channel=item["channel"],
        asked_at=parse_iso(item["asked_at"]),  # type: ignore[arg-type]  # always set
        practitioner=item.get("practitioner"),
        language=item.get("language"),
        rating=int(item["rating"]) if "rating" in item else None,
        answered_by=item.get("answered_by"),
    )
