"""Storage for safeguarding: a case's risk (and its place in the queue), the managers' term
list with its history, and the alerts the every-minute job escalates (sparse gsi3 `ALERTS`)."""

from __future__ import annotations

import json
import random
import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb.base import StoreBase, update
from chalicelib.adapters.dynamodb.codec import case_key, dump, iso, load, parse_iso
from chalicelib.adapters.dynamodb.items import case_from
from chalicelib.domain.errors import WriteConflict
from chalicelib.domain.model import Alert, Case
from chalicelib.domain.risk import RANK, Held, Risk, queue_position

TERMS_KEY = {"pk": "SETTINGS", "sk": "RISKTERMS"}
ALERTS = "ALERTS"
SET_RISK_ATTEMPTS = 8  # each lost only to another change of the same case meanwhile


def alert_key(case_id: str) -> dict[str, str]:
    return {"pk": f"ALERT#{case_id}", "sk": "ALERT"}


class DynamoSafeguarding(StoreBase):
    def set_risk(
        self, case_id: str, risk: Risk, *, only_if_higher: bool, held: Held | None = None
    ) -> Case | None:
        """ONE conditional UpdateItem writes the risk and, for a waiting case, its waiting
        positions (gsi3, gsi4) as that risk places them (`risk.queue_position`), conditional on
        the risk and the positions being as just read: no write can come between the level and
        the place, so every reader (and every index entry, one version of the item) sees them
        agree. A write that lost (another change of the case came first, or a transaction held
        it) is planned again from a fresh read; the level only rises when `only_if_higher`, and
        nothing is written when the stored risk is no longer `held.risk` (what the caller read).
        With `held.inbound_count`, a level not above the stored one is also conditional, in
        that same UpdateItem, on the case's count of citizen messages: a message landing after the
        author's read (and intake counts each in the write that adds it) refuses the lowering
        even if it lands between our read and our write."""
        for attempt in range(SET_RISK_ATTEMPTS):
            item = self._get(case_key(case_id))
            if item is None:
                return None
            stored = item.get("risk")
            if only_if_higher and RANK[risk.level] <= int(item.get("risk_rank", 0)):
                return None
            if held is not None and held.risk is not None and stored != held.risk.to_json():
                return None
            not_raised = RANK[risk.level] <= int(item.get("risk_rank", 0))
            unread = held.inbound_count if held is not None and not_raised else None
            if unread is not None and int(item.get("inbound_count", 0)) != unread:
                return None
            try:
                written = self._update_new(case_key(case_id), *_placed(item, risk, unread))
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionConflictException":
                    raise
                time.sleep(0.002 * (attempt + 1) * random.random())  # the transaction ends soon
                continue
            if written is not None:
                return case_from(written)
        raise WriteConflict("risk")

    def load_risk_terms(self) -> dict[str, Any] | None:
        item = self._get(TERMS_KEY, consistent=False)
        return json.loads(item["terms"]) if item else None

    def save_risk_terms(self, terms: dict[str, Any], expected_version: int) -> bool:
        """The current list, only over the version read; each version is also kept under its
        number, so what the rules were on any day can be shown."""
        version = int(terms["version"])
        values: dict[str, Any] = {":terms": json.dumps(terms), ":version": version}
        if expected_version:
            values[":expected"] = expected_version
        saved = self._update(
            TERMS_KEY,
            "SET terms = :terms, version = :version",
            values,
            "version = :expected" if expected_version else "attribute_not_exists(pk)",
        )
        if saved:
            self._put(
                {
                    "pk": "RISKTERMS",
                    "sk": f"V#{version:08d}",
                    "type": "risk_terms",
                    "terms": json.dumps(terms),
                }
            )
        return saved

    def get_alert(self, case_id: str) -> Alert | None:
        return self._get_as(alert_key(case_id), _alert_from)

    def put_alert(self, alert: Alert, expected_version: int | None) -> bool:
        look = alert.next_look
        item = {
            **alert_key(alert.case_id),
            "type": "alert",
            "case_id": alert.case_id,
            "raised_at": iso(alert.raised_at),
            "version": alert.version,
            "stage": alert.stage,
            "notified": list(alert.notified) or None,
            "escalate_at": iso(alert.escalate_at) if alert.escalate_at else None,
            "answer_at": iso(alert.answer_at) if alert.answer_at else None,
            "acknowledged_by": alert.acknowledged_by,
            "acknowledged_at": iso(alert.acknowledged_at) if alert.acknowledged_at else None,
            "crisis_answered_at": iso(alert.crisis_answered_at)
            if alert.crisis_answered_at
            else None,
            "managers_told": alert.managers_told or None,
            "resolved_by": alert.resolved_by,
            "resolved_at": iso(alert.resolved_at) if alert.resolved_at else None,
            "gsi3pk": ALERTS if look else None,
            "gsi3sk": f"{iso(look)}#{alert.case_id}" if look else None,
        }
        condition = "attribute_not_exists(pk)" if expected_version is None else "version = :v"
        values = {} if expected_version is None else {":v": expected_version}
        return self._unless_lost(
            self.client.put_item,
            {
                "TableName": self.table,
                "Item": dump(item),
                "ConditionExpression": condition,
                **({"ExpressionAttributeValues": dump(values)} if values else {}),
            },
        )

    def claim_alert_sms(
        self, practitioner_id: str, case_id: str | None, now: datetime, cutoff: datetime
    ) -> tuple[str, ...]:
        """One conditional UpdateItem claims the supervisor's window (her last alert SMS at or
        before `cutoff`) and takes the batch with it (ALL_OLD); a lost claim adds `case_id` to
        the batch (ADD to a string set: concurrent alerts all land)."""
        key = {"pk": f"ALERTSMS#{practitioner_id}", "sk": "ALERTSMS"}
        condition = "(attribute_not_exists(sent_at) OR sent_at <= :cutoff)"
        if case_id is None:
            condition += " AND attribute_exists(pending)"
        claim = update(
            self.table,
            key,
            "SET sent_at = :now, #type = :type REMOVE pending",
            {":now": iso(now), ":cutoff": iso(cutoff), ":type": "alert_sms"},
            condition,
            {"#type": "type"},
        )["Update"]
        answer = self._write(self.client.update_item, {**claim, "ReturnValues": "ALL_OLD"})
        if answer is not None:
            batched = set(load(answer.get("Attributes", {})).get("pending", ()))
            return tuple(sorted(batched | ({case_id} if case_id else set())))
        if case_id is not None:
            self._update(key, "ADD pending :case", {":case": {case_id}})
        return ()

    def alerts_due(self, now: datetime) -> list[Alert]:
        """Alerts whose next step is due: their keys from gsi3, each read consistently."""
        items = self._query_all(
            IndexName="gsi3",
            KeyConditionExpression="gsi3pk = :pk AND gsi3sk <= :now",
            ExpressionAttributeValues=dump({":pk": ALERTS, ":now": iso(now) + "~"}),
        )
        found = (self.get_alert(item["pk"].removeprefix("ALERT#")) for item in items)
        return [alert for alert in found if alert is not None]


def _placed(
    item: dict[str, Any], risk: Risk, inbound_count: int | None
) -> tuple[str, dict[str, Any], str, dict[str, str]]:
    """The UpdateItem of `set_risk`: the risk, and each waiting position moved to where the
    risk puts it, conditional on the risk and every index key being as read in `item` (and,
    given `inbound_count`, on the case having had just that many citizen messages)."""
    sets = ["#risk = :risk", "risk_rank = :rank"]
    values: dict[str, Any] = {":risk": risk.to_json(), ":rank": RANK[risk.level]}
    conditions = ["attribute_exists(pk)"]
    if inbound_count is not None:
        absent = "attribute_not_exists(inbound_count) OR " if inbound_count == 0 else ""
        conditions.append(f"({absent}inbound_count = :inbound)")
        values[":inbound"] = inbound_count
    if "risk" in item:
        conditions.append("#risk = :held")
        values[":held"] = item["risk"]
    else:
        conditions.append("attribute_not_exists(#risk)")
    for index, waiting in (("gsi3", "WAITING#"), ("gsi4", "QUEUED#")):
        for name in (f"{index}pk", f"{index}sk"):
            if name in item:
                conditions.append(f"{name} = :was_{name}")
                values[f":was_{name}"] = item[name]
            else:
                conditions.append(f"attribute_not_exists({name})")
        if str(item.get(f"{index}pk", "")).startswith(waiting):
            place = queue_position(item[f"{index}sk"], risk.level == "high")
            if place != item[f"{index}sk"]:
                sets.append(f"{index}sk = :place_{index}")
                values[f":place_{index}"] = place
    return "SET " + ", ".join(sets), values, " AND ".join(conditions), {"#risk": "risk"}


def _alert_from(item: dict[str, Any]) -> Alert:
    return Alert(
        case_id=item["case_id"],
        raised_at=parse_iso(item["raised_at"]),  # type: ignore[arg-type]  # always set
        version=int(item["version"]),
        stage=int(item.get("stage", 0)),
        notified=tuple(item.get("notified", ())),
        escalate_at=parse_iso(item.get("escalate_at")),
        answer_at=parse_iso(item.get("answer_at")),
        acknowledged_by=item.get("acknowledged_by"),
        acknowledged_at=parse_iso(item.get("acknowledged_at")),
        crisis_answered_at=parse_iso(item.get("crisis_answered_at")),
        managers_told=bool(item.get("managers_told")),
        resolved_by=item.get("resolved_by"),
        resolved_at=parse_iso(item.get("resolved_at")),
    )
