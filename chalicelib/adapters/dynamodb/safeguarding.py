"""Storage for safeguarding: a case's risk (and its place in the queue), the managers' term
list with its history, and the alerts the every-minute job escalates (sparse gsi3 `ALERTS`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb.base import StoreBase, update
from chalicelib.adapters.dynamodb.codec import case_key, dump, iso, load, parse_iso
from chalicelib.adapters.dynamodb.items import case_from
from chalicelib.domain.model import Alert, Case
from chalicelib.domain.risk import RANK, Risk, queue_position

TERMS_KEY = {"pk": "SETTINGS", "sk": "RISKTERMS"}
ALERTS = "ALERTS"


def alert_key(case_id: str) -> dict[str, str]:
    return {"pk": f"ALERT#{case_id}", "sk": "ALERT"}


class DynamoSafeguarding(StoreBase):
    def set_risk(self, case_id: str, risk: Risk, *, only_if_higher: bool) -> Case | None:
        """One conditional UpdateItem (the level only rises when `only_if_higher`), then, for a
        waiting case whose priority changed, its waiting positions (gsi3, gsi4) in one more,
        conditional on them being as read: a case handed over meanwhile is left as it is."""
        condition = "attribute_exists(pk)"
        if only_if_higher:
            condition += " AND (attribute_not_exists(risk_rank) OR risk_rank < :rank)"
        item = self._update_new(
            case_key(case_id),
            "SET risk = :risk, risk_rank = :rank",
            {":risk": risk.to_json(), ":rank": RANK[risk.level]},
            condition,
        )
        if item is None:
            return None
        high = risk.level == "high"
        moves = {
            name: (item[name], queue_position(item[name], high))
            for name, prefix in (("gsi3sk", "WAITING#"), ("gsi4sk", "QUEUED#"))
            if str(item.get(name[:4] + "pk", "")).startswith(prefix)
        }
        moves = {name: (old, new) for name, (old, new) in moves.items() if old != new}
        if moves:
            self._update(
                case_key(case_id),
                "SET " + ", ".join(f"{name} = :new_{name}" for name in moves),
                {
                    **{f":new_{name}": new for name, (_, new) in moves.items()},
                    **{f":old_{name}": old for name, (old, _) in moves.items()},
                },
                " AND ".join(f"{name} = :old_{name}" for name in moves),
            )
        return case_from(item)

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
    )
