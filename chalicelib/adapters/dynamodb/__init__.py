"""DynamoDB adapter: the only package that knows keys, items and expressions.

Single-table layout (docs/data-model.md). Every multi-item change is one TransactWriteItems with
conditions; a lost condition comes back as one of the domain's WriteRejected exceptions naming
which rule held, so the domain can re-plan without knowing DynamoDB.
"""

from __future__ import annotations

from chalicelib.adapters.dynamodb.canned import CannedStore
from chalicelib.adapters.dynamodb.cases import CaseStore
from chalicelib.adapters.dynamodb.codec import case_key, iso, open_case_key, parse_iso, week_key
from chalicelib.adapters.dynamodb.inbound import InboundStore
from chalicelib.adapters.dynamodb.messages import MessageStore, OutboxStore
from chalicelib.adapters.dynamodb.practitioners import PractitionerStore
from chalicelib.adapters.dynamodb.privacy import PrivacyStore
from chalicelib.adapters.dynamodb.settings import ReportStore, SettingsStore
from chalicelib.adapters.dynamodb.webinars import WebinarStore


class DynamoStore(
    InboundStore,
    MessageStore,
    CaseStore,
    PractitionerStore,
    SettingsStore,
    WebinarStore,
    ReportStore,
    PrivacyStore,
    OutboxStore,
    CannedStore,
):
    """Storage for every domain module, over one boto3 DynamoDB client (thread-safe)."""

    def timeline(self, case_id: str) -> list:
        case = self.get_case(case_id, with_timeline=True)
        return list(case.timeline) if case else []

    def get_case_item(self, case_id: str) -> dict | None:
        return self._get(case_key(case_id))


__all__ = [
    "DynamoStore",
    "case_key",
    "iso",
    "open_case_key",
    "parse_iso",
    "week_key",
]
