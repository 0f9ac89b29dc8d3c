"""Safeguarding: a practitioner's judgement of a case's risk, acknowledging a risk alert, and
the term list managers maintain."""

from __future__ import annotations

from typing import Any

from chalicelib.routes.edge import BOTH, JSON, Area

bp = Area(__name__)


@bp.route("/cases/{case_id}/risk", methods=["PUT"], content_types=JSON)
def change_risk(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import safeguarding

    actor, fields = bp.actor(*BOTH), bp.body("risk_change")
    with views.unseen_shown():
        case = safeguarding.change(
            bp.deps, actor, case_id, fields["level"], fields["reason"], seen=fields.get("seen")
        )
    return {"case_id": case.id, "risk": views.case_risk(case)}


@bp.route("/cases/{case_id}/risk/acknowledge", methods=["POST"])
def acknowledge_alert(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import alerts

    return views.alert(alerts.acknowledge(bp.deps, bp.actor(*BOTH), case_id))


@bp.route("/safeguarding/terms", methods=["GET"])
def risk_terms() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import safeguarding

    bp.actor("manager")
    return views.risk_terms(safeguarding.current_terms(bp.deps.store))


@bp.route("/safeguarding/terms", methods=["PUT"], content_types=JSON)
def save_risk_terms() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import safeguarding

    actor, fields, deps = bp.actor("manager"), bp.body("risk_terms"), bp.deps
    terms = safeguarding.save_terms(deps, actor, fields)
    deps.risk_terms_changed(terms)
    return views.risk_terms(terms)
