"""The unified inbox and what practitioners and managers do with a case."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.routes.edge import BOTH, JSON, Area, created

bp = Area(__name__)


@bp.route("/inbox", methods=["GET"])
def inbox() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, params = bp.actor(*BOTH), bp.params("inbox_query")  # no other parameter
    needs_reply = {"true": True, "false": False}.get(params.pop("needs_reply", ""))
    cases, cursor = casework.inbox(bp.deps, actor, needs_reply=needs_reply, **params)
    counts = casework.inbox_counts(bp.deps, actor)
    return {"cases": [views.case_summary(c) for c in cases], "cursor": cursor, "counts": counts}


@bp.route("/canned", methods=["GET"])
def canned_responses() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import canned

    return {"canned": [views.canned(c) for c in canned.available(bp.deps, bp.actor(*BOTH))]}


@bp.route("/canned", methods=["POST"], content_types=JSON)
def new_canned_response() -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import canned

    actor, fields = bp.actor(*BOTH), bp.body("canned")
    return created(views.canned(canned.create(bp.deps, actor, fields)))


@bp.route("/canned/{canned_id}", methods=["PUT"], content_types=JSON)
def edit_canned_response(canned_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import canned

    actor, fields = bp.actor(*BOTH), bp.body("canned")
    return views.canned(canned.edit(bp.deps, actor, canned_id, fields))


@bp.route("/canned/{canned_id}", methods=["DELETE"])
def delete_canned_response(canned_id: str) -> Response:
    from chalicelib.domain import canned

    shared = bp.query("shared") == "true"
    canned.remove(bp.deps, bp.actor(*BOTH), canned_id, shared=shared)
    return Response(body="", status_code=204)


@bp.route("/mentions", methods=["GET"])
def my_mentions() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, cursor = bp.actor(*BOTH), bp.params("mentions_query").get("cursor")
    found, more = casework.mentions(bp.deps, actor, cursor)
    return {"mentions": [views.mention(m) for m in found], "cursor": more}


@bp.route("/cases/{case_id}", methods=["GET"])
def case_detail(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    return views.case_detail(casework.view_case(bp.deps, case_id, bp.actor(*BOTH)))


@bp.route("/cases/{case_id}/emails/{interaction_id}/attachments/{index}", methods=["GET"])
def email_attachment(case_id: str, interaction_id: str, index: str) -> Response:
    """The bytes as a download, never rendered: a citizen's attachment may be HTML or script."""
    from chalicelib.channels import views
    from chalicelib.domain import attachments

    found, data = attachments.attachment(bp.deps, case_id, interaction_id, index, bp.actor(*BOTH))
    return Response(body=data, headers=views.download_headers(found))


@bp.route("/cases/{case_id}/reads", methods=["GET"])
def case_reads(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    bp.actor("manager")
    return {"reads": [views.case_read(r) for r in casework.reads_of(bp.deps, case_id)]}


@bp.route("/cases/{case_id}/claim", methods=["POST"])
def claim_case(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    return views.case_summary(casework.claim(bp.deps, case_id, bp.actor("practitioner")))


@bp.route("/cases/{case_id}/replies", methods=["POST"], content_types=JSON)
def reply_to_case(case_id: str) -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, deps, request = bp.actor(*BOTH), bp.deps, bp.body("reply")
    with views.unseen_shown():
        reply_id, status = casework.reply(
            deps,
            case_id,
            actor,
            request["body"],
            seen=request.get("seen"),
            canned_id=request.get("canned_id"),
            first_name=request.get("first_name"),
        )
    return created({"id": reply_id, "status": status})


@bp.route("/cases/{case_id}/language", methods=["PUT"], content_types=JSON)
def case_language(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, language = bp.actor(*BOTH), bp.body("case_language")["language"]
    return views.case_summary(casework.set_language(bp.deps, case_id, actor, language))


@bp.route("/cases/{case_id}/callback", methods=["POST"])
def call_back(case_id: str) -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import voice

    actor, deps = bp.actor("practitioner"), bp.deps
    call = voice.start_callback(deps, case_id, actor)
    return created(views.interaction(call))


@bp.route("/cases/{case_id}/notes", methods=["POST"], content_types=JSON)
def note_on_case(case_id: str) -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor = bp.actor(*BOTH)
    note = casework.add_note(bp.deps, case_id, actor, bp.body("note")["body"])
    return created(views.interaction(note))


@bp.route("/cases/{case_id}/presence", methods=["POST"], content_types=JSON)
def presence_on_case(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    activity = bp.body("presence")["activity"]
    case = casework.mark_presence(bp.deps, case_id, bp.actor(*BOTH), activity)
    return {"others": views.case_summary(case)["others"]}


@bp.route("/cases/{case_id}/transfer", methods=["POST"], content_types=JSON)
def transfer_case(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, target = bp.actor(*BOTH), bp.body("transfer")
    case = casework.transfer(
        bp.deps,
        case_id,
        actor,
        queue=target.get("queue"),
        practitioner_id=target.get("practitioner_id"),
    )
    return views.case_summary(case)


@bp.route("/cases/{case_id}/close", methods=["POST"], content_types=JSON)
def close_case(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, request = bp.actor(*BOTH), bp.body("close")
    with views.unseen_shown():
        case = casework.close(bp.deps, case_id, actor, request["outcome"], seen=request["seen"])
    return views.case_summary(case)


@bp.route("/cases/{case_id}/link", methods=["POST"])
def confirm_case_link(case_id: str) -> dict[str, Any]:
    """The marked case's sender is the linked case's citizen: see chalicelib/domain/links.py."""
    from chalicelib.channels import views
    from chalicelib.domain import links

    case = links.confirm(bp.deps, case_id, bp.actor(*BOTH))
    return {**views.case_summary(case), **views.case_links(case)}


@bp.route("/cases/{case_id}/link/dismiss", methods=["POST"])
def dismiss_case_link(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import links

    case = links.dismiss(bp.deps, case_id, bp.actor(*BOTH))
    return {**views.case_summary(case), **views.case_links(case)}


@bp.route("/cases/{case_id}/reopen", methods=["POST"])
def reopen_case(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    return views.case_summary(casework.reopen(bp.deps, case_id, bp.actor(*BOTH)))


@bp.route("/cases/{case_id}/recordings/{recording_sid}", methods=["GET"])
def voicemail_recording(case_id: str, recording_sid: str) -> Response:
    """A voicemail on the case, fetched from Twilio with the account's credentials (the
    browser has none); the read is recorded like the case's."""
    from chalicelib.channels import views
    from chalicelib.domain import recordings

    data = recordings.voicemail(bp.deps, case_id, recording_sid, bp.actor(*BOTH))
    return Response(body=data, headers=views.recording_headers(recording_sid))
