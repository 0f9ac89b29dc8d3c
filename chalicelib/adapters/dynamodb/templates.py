"""Storage for managers' wording of the templates and a case's language.

`TEMPLATES` / `CURRENT#<language>#<key>` holds each edited template's latest version (one Query
reads them all, for the per-container cache), `TEMPLATE#<language>#<key>` / `V#<000001>` every
version; both are written in one transaction, conditional on the version being new."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb.base import Cancelled, StoreBase, put
from chalicelib.adapters.dynamodb.codec import case_key, dump, iso, parse_iso
from chalicelib.domain.wording import TemplateVersion


def _item(version: TemplateVersion) -> dict[str, Any]:
    return {
        "type": "template",
        "language": version.language,
        "key": version.key,
        "text": version.text,
        "version": version.version,
        "by": version.by,
        "at": iso(version.at),
    }


def _from(item: dict[str, Any]) -> TemplateVersion:
    at = parse_iso(item["at"])
    assert at is not None
    return TemplateVersion(
        item["language"], item["key"], item["text"], int(item["version"]), item["by"], at
    )


class DynamoTemplates(StoreBase):
    def template_overrides(self) -> list[TemplateVersion]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=dump({":pk": "TEMPLATES"}),
        )
        return [_from(item) for item in items]

    def save_template(self, version: TemplateVersion) -> bool:
        current = {"pk": "TEMPLATES", "sk": f"CURRENT#{version.language}#{version.key}"}
        history = {
            "pk": f"TEMPLATE#{version.language}#{version.key}",
            "sk": f"V#{version.version:06d}",
        }
        if version.version == 1:
            replace = put(self.table, {**current, **_item(version)})
        else:  # only over the version this one follows
            replace = put(self.table, {**current, **_item(version)}, "#v = :previous")
            replace["Put"]["ExpressionAttributeNames"] = {"#v": "version"}
            replace["Put"]["ExpressionAttributeValues"] = dump({":previous": version.version - 1})
        try:
            self._transact(
                [("current", replace), ("version", put(self.table, {**history, **_item(version)}))]
            )
        except Cancelled:
            return False
        return True

    def template_versions(self, language: str, key: str) -> list[TemplateVersion]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=dump({":pk": f"TEMPLATE#{language}#{key}"}),
        )
        return [_from(item) for item in items]

    def set_case_language(self, case_id: str, language: str) -> bool:
        fields = {"language": language}
        return self._set_fields(case_key(case_id), fields, "attribute_exists(pk)") is not None
