"""DynamoDB adapter: the only package that knows keys, items and expressions.

Single-table layout (docs/data-model.md). Every multi-item change is one TransactWriteItems with
conditions; a lost condition comes back as one of the domain's WriteRejected exceptions naming
which rule held, so the domain can re-plan without knowing DynamoDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.adapters.dynamodb.canned import DynamoCanned
from chalicelib.adapters.dynamodb.cases import DynamoCases
from chalicelib.adapters.dynamodb.chat import DynamoChat
from chalicelib.adapters.dynamodb.codec import case_key, iso, open_case_key, parse_iso, week_key
from chalicelib.adapters.dynamodb.inbound import DynamoInbound
from chalicelib.adapters.dynamodb.messages import DynamoMessages, DynamoOutbox
from chalicelib.adapters.dynamodb.practitioners import DynamoPractitioners
from chalicelib.adapters.dynamodb.privacy import DynamoPrivacy
from chalicelib.adapters.dynamodb.safeguarding import DynamoSafeguarding
from chalicelib.adapters.dynamodb.settings import DynamoReports, DynamoSettings
from chalicelib.adapters.dynamodb.templates import DynamoTemplates
from chalicelib.adapters.dynamodb.webinars import DynamoWebinars

if TYPE_CHECKING:
    from chalicelib.domain.model import Interaction


class DynamoStore(
    DynamoInbound,
    DynamoMessages,
    DynamoCases,
    DynamoPractitioners,
    DynamoSettings,
    DynamoWebinars,
    DynamoReports,
    DynamoPrivacy,
    DynamoOutbox,
    DynamoCanned,
    DynamoTemplates,
    DynamoSafeguarding,
    DynamoChat,
):
    """Storage for every domain module, over one boto3 DynamoDB client (thread-safe)."""

    def timeline(self, case_id: str) -> list[Interaction]:
        case = self.get_case(case_id, with_timeline=True)
        return list(case.timeline) if case else []

    def get_case_item(self, case_id: str) -> dict[str, Any] | None:
        return self._get(case_key(case_id))


__all__ = [
    "DynamoStore",
    "case_key",
    "iso",
    "open_case_key",
    "parse_iso",
    "week_key",
]
