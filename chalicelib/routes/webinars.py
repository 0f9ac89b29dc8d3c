"""Webinars: the public listing, booking and cancelling; managers' sessions and attendance."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.routes.edge import JSON, Area, created

bp = Area(__name__)


@bp.route("/webinars", methods=["GET"])
def upcoming_webinars() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import webinars

    return {"webinars": [views.webinar_public(w) for w in webinars.upcoming(bp.deps)]}


@bp.route("/webinars/{webinar_id}/bookings", methods=["POST"], content_types=JSON)
def book_webinar(webinar_id: str) -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import webinars
    from chalicelib.domain.errors import NotFound

    request, deps = bp.body("booking"), bp.deps
    webinar = deps.webinar(webinar_id)
    if webinar is None:
        raise NotFound("No such webinar.")
    webinars.book(deps, webinar, request)
    # The same answer for a new booking, a repeat and an address over its limit: the state and
    # the cancel link go to the address or number given, so only its owner learns them.
    return Response(body=views.booking_requested(webinar), status_code=202)


@bp.route("/bookings/{token}/cancel", methods=["POST"])
def cancel_booking(token: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import webinars

    deps = bp.deps
    booking = webinars.cancel(deps, token)
    return {"booking": views.booking_public(booking, None)}


@bp.route("/webinars", methods=["POST"], content_types=JSON)
def create_webinar() -> Response:
    from chalicelib.channels import views
    from chalicelib.channels.validation import parse_time
    from chalicelib.domain import webinars

    bp.actor("manager")
    fields = bp.body("webinar")
    fields["starts_at"] = parse_time(fields["starts_at"], "starts_at")
    return created(views.webinar_admin(webinars.create(bp.deps, fields)))


@bp.route("/webinars/{webinar_id}", methods=["PUT"], content_types=JSON)
def update_webinar(webinar_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.channels.validation import parse_time
    from chalicelib.domain import webinars

    bp.actor("manager")
    changes = bp.body("webinar_update")
    if "starts_at" in changes:
        changes["starts_at"] = parse_time(changes["starts_at"], "starts_at")
    return views.webinar_admin(webinars.update(bp.deps, webinar_id, changes))


@bp.route("/webinars/{webinar_id}/cancel", methods=["POST"])
def cancel_webinar(webinar_id: str) -> dict[str, Any]:
    from chalicelib.domain import webinars

    bp.actor("manager")
    deps = bp.deps
    told = webinars.cancel_session(deps, webinar_id)
    return {"cancelled": webinar_id, "citizens_told": told}


@bp.route("/webinars/{webinar_id}/bookings", methods=["GET"])
def webinar_bookings(webinar_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import webinars

    bp.actor("manager")
    return {"bookings": [views.booking_admin(b) for b in webinars.bookings(bp.deps, webinar_id)]}


@bp.route(
    "/webinars/{webinar_id}/bookings/{booking_id}/attendance", methods=["POST"], content_types=JSON
)
def mark_attendance(webinar_id: str, booking_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import webinars

    bp.actor("manager")
    attended = bp.body("attendance")["attended"]
    booking = webinars.attendance(bp.deps, webinar_id, booking_id, attended)
    return views.booking_admin(booking)
