"""Administration: health and the OpenAPI document, opening hours, practitioners and their
duty, a contact's data (export, erase)."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.routes.edge import JSON, Area, created

bp = Area(__name__)


@bp.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> dict[str, Any]:
    from chalicelib.channels.openapi import document

    return document(bp.current_app.routes)


@bp.route("/hours", methods=["GET"])
def opening_hours() -> dict[str, Any]:
    from chalicelib.channels import views

    deps = bp.deps
    return views.opening_hours(deps.hours(), deps.clock())


@bp.route("/hours", methods=["PUT"], content_types=JSON)
def publish_opening_hours() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import opening

    bp.actor("manager")
    fields, deps = bp.body("hours"), bp.deps
    hours = opening.replace(deps, fields)
    deps.hours_changed(hours)
    return views.opening_hours(hours, deps.clock())


@bp.route("/practitioners/me", methods=["GET"])
def my_profile() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import staffing

    return views.practitioner(staffing.own_profile(bp.deps, bp.actor("practitioner")))


@bp.route("/practitioners/me/status", methods=["PUT"], content_types=JSON)
def my_duty_status() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import staffing

    actor, on_duty = bp.actor("practitioner"), bp.body("duty_status")["on_duty"]
    return views.practitioner(staffing.set_duty(bp.deps, actor, on_duty))


@bp.route("/practitioners", methods=["GET"])
def list_practitioners() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import staffing

    bp.actor("manager")
    return {"practitioners": [views.practitioner(p) for p in staffing.everyone(bp.deps)]}


@bp.route("/practitioners", methods=["POST"], content_types=JSON)
def create_practitioner() -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import staffing

    bp.actor("manager")
    return created(views.practitioner(staffing.create(bp.deps, bp.body("practitioner"))))


@bp.route("/practitioners/{practitioner_id}", methods=["PUT"], content_types=JSON)
def update_practitioner(practitioner_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import staffing

    bp.actor("manager")
    changes = bp.body("practitioner_update")
    return views.practitioner(staffing.update(bp.deps, practitioner_id, changes))


@bp.route("/practitioners/{practitioner_id}/shifts", methods=["GET"])
def practitioner_shifts(practitioner_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import staffing

    bp.actor("manager")
    return {"shifts": [views.shift(s) for s in staffing.shifts_of(bp.deps, practitioner_id)]}


@bp.route("/contacts/{contact_id}/export", methods=["GET"])
def export_contact(contact_id: str) -> dict[str, Any]:
    from chalicelib.domain import privacy

    actor, deps = bp.actor("manager"), bp.deps
    return privacy.export(deps, contact_id, actor.user_id)


@bp.route("/contacts/{contact_id}/erase", methods=["POST"])
def erase_contact(contact_id: str) -> dict[str, Any]:
    from chalicelib.domain import privacy

    actor, deps = bp.actor("manager"), bp.deps
    counts = privacy.erase(deps, contact_id, actor.user_id)
    return {"erased": contact_id, **counts}
