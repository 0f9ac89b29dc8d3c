"""The practitioners' API over HTTP (Chalice's test client) against DynamoDB Local."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.domain import staffing
from chalicelib.domain.model import Actor, Practitioner
from tests.conftest import bearer, deps_of, seen
from tests.twilio_fakes import signed, sms_form

ANNA = bearer("anna", "practitioner")  # serves the case's queue (general)
OMAR = bearer("omar", "practitioner")  # serves careers only
BOSS = bearer("boss", "manager")
ANON: dict[str, str] = {}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def case_id(api, local_services) -> str:
    store = local_services.store
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 5))
    store.create_practitioner(Practitioner("omar", "Omar", ("careers",), ("da",), 5))
    api.post(
        "/webhooks/twilio/sms",
        **signed("/webhooks/twilio/sms", sms_form("+4520000001", "I need help")),
    )
    [case] = [
        i for i in store.client.scan(TableName=store.table)["Items"] if i["type"]["S"] == "case"
    ]
    return case["id"]["S"]


def call(api, method: str, path: str, headers: dict, body: dict | None = None):
    kwargs = {"headers": {**headers, **(JSON if body is not None else {})}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    return getattr(api, method.lower())(path, **kwargs)


LATEST = "<the latest event>"  # filled in with the case's newest timeline event id


ROUTES = [
    # method, path, body, expected for (anonymous, practitioner of the queue, of another, manager)
    ("GET", "/inbox", None, (401, 200, 200, 200)),
    ("GET", "/cases/{id}", None, (401, 200, 403, 200)),
    ("GET", "/cases/{id}/reads", None, (401, 403, 403, 200)),
    ("POST", "/cases/{id}/claim", None, (401, 200, 403, 403)),
    ("POST", "/cases/{id}/replies", {"body": "Hello", "seen": LATEST}, (401, 201, 403, 201)),
    ("POST", "/cases/{id}/notes", {"body": "Wants a call back"}, (401, 201, 403, 201)),
    ("POST", "/cases/{id}/transfer", {"queue": "careers"}, (401, 200, 403, 200)),
    ("POST", "/cases/{id}/close", {"outcome": "answered", "seen": LATEST}, (401, 200, 403, 200)),
    ("POST", "/cases/{id}/reopen", None, (401, 409, 403, 409)),
    ("PUT", "/practitioners/me/status", {"on_duty": True}, (401, 200, 200, 403)),
    ("GET", "/practitioners/me", None, (401, 200, 200, 403)),
    ("GET", "/practitioners", None, (401, 403, 403, 200)),
    (
        "PUT",
        "/hours",
        {"timezone": "Europe/Copenhagen", "weekly": {"mon": [["09:00", "17:00"]]}},
        (401, 403, 403, 200),
    ),
    (
        "POST",
        "/practitioners",
        {"id": "new-one", "display_name": "New", "queues": ["general"]},
        (401, 403, 403, 201),
    ),
    ("PUT", "/practitioners/anna", {"max_active_cases": 3}, (401, 403, 403, 200)),
    ("GET", "/practitioners/anna/shifts", None, (401, 403, 403, 200)),
]
ROLES = [("anonymous", ANON), ("queue", ANNA), ("other-queue", OMAR), ("manager", BOSS)]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES]
)
@pytest.mark.parametrize("role", range(4), ids=[name for name, _ in ROLES])
def test_authorization_matrix(api, case_id, local_services, method, path, body, expected, role):
    if body and body.get("seen") == LATEST:
        body = {**body, "seen": seen(case_id)}
    answer = call(api, method, path.format(id=case_id), ROLES[role][1], body)
    assert answer.status_code == expected[role], answer.body
    if answer.status_code >= 400:
        assert set(json.loads(answer.body)["error"]) >= {"code", "message"}


def test_a_bad_token_is_401(api, case_id):
    for header in ("Bearer nope", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer " + "e30." * 2):
        answer = api.get("/inbox", headers={"Authorization": header})
        assert answer.status_code == 401
        assert json.loads(answer.body)["error"]["code"] == "unauthenticated"


def test_the_whole_case_is_one_timeline_and_every_read_is_recorded(api, case_id):
    call(api, "POST", f"/cases/{case_id}/claim", ANNA)
    call(api, "POST", f"/cases/{case_id}/notes", ANNA, {"body": "Asked about gap years"})
    call(api, "POST", f"/cases/{case_id}/replies", ANNA, {"body": "Hi!", "seen": seen(case_id)})
    detail = json.loads(call(api, "GET", f"/cases/{case_id}", ANNA).body)
    assert detail["status"] == "assigned" and detail["assignee"] == "anna"
    assert [(e["channel"], e["direction"]) for e in detail["timeline"]] == [
        ("sms", "in"),
        ("sms", "out"),
        ("note", "internal"),
        ("sms", "out"),
    ]
    assert detail["timeline"][-1]["author"] == "anna"
    assert detail["timeline"][-1]["status"] == "local"
    assert detail["first_response_at"] is not None
    call(api, "GET", f"/cases/{case_id}", BOSS)
    reads = json.loads(call(api, "GET", f"/cases/{case_id}/reads", BOSS).body)["reads"]
    assert [(r["user_id"], r["role"]) for r in reads] == [
        ("anna", "practitioner"),
        ("boss", "manager"),
    ]


def test_the_inbox_shows_my_cases_and_my_queues_waiting_cases_only(api, case_id):
    anna = json.loads(call(api, "GET", "/inbox", ANNA).body)
    omar = json.loads(call(api, "GET", "/inbox", OMAR).body)
    assert [c["id"] for c in anna["cases"]] == [case_id] and anna["cursor"] is None
    assert anna["cases"][0]["channels"] == ["sms"] and anna["cases"][0]["status"] == "queued"
    assert omar["cases"] == []
    call(api, "POST", f"/cases/{case_id}/transfer", ANNA, {"queue": "careers"})
    assert [c["id"] for c in json.loads(call(api, "GET", "/inbox", OMAR).body)["cases"]] == [
        case_id
    ]
    closed = json.loads(call(api, "GET", "/inbox?status=closed", BOSS).body)
    assert closed["cases"] == []


def test_every_inbox_answer_carries_the_counts_of_its_views(api, case_id):
    counts = {
        who: json.loads(call(api, "GET", "/inbox", header).body)["counts"]
        for who, header in (("anna", ANNA), ("omar", OMAR), ("boss", BOSS))
    }
    assert counts["anna"] == {"mine": 0, "waiting": 1, "mentions": 0}
    assert counts["omar"] == {"mine": 0, "waiting": 0, "mentions": 0}
    assert counts["boss"] == {"open": 1, "waiting": {"careers": 0, "general": 1}}
    call(api, "POST", f"/cases/{case_id}/notes", BOSS, {"body": "@anna can you take it?"})
    call(api, "POST", f"/cases/{case_id}/claim", ANNA)
    answer = json.loads(call(api, "GET", "/inbox?status=closed", ANNA).body)
    assert answer["cases"] == [] and answer["counts"] == {"mine": 1, "waiting": 0, "mentions": 1}
    assert json.loads(call(api, "GET", "/inbox", BOSS).body)["counts"]["open"] == 1


def test_an_inbox_entry_shows_the_latest_message_and_whether_it_needs_a_reply(
    api, case_id, local_services
):
    clock = local_services.clock

    def entry():
        [summary] = json.loads(call(api, "GET", "/inbox", ANNA).body)["cases"]
        return summary

    first = entry()
    assert (first["channel"], first["preview"], first["needs_reply"]) == (
        "sms",
        "I need help",
        True,
    )
    assert first["waiting_since"] == first["opened_at"]
    call(api, "POST", f"/cases/{case_id}/claim", ANNA)
    call(api, "POST", f"/cases/{case_id}/replies", ANNA, {"body": "Hi!", "seen": seen(case_id)})
    answered = entry()
    assert answered["needs_reply"] is False and answered["waiting_since"] is None
    assert answered["preview"] == "I need help"  # still the citizen's words, not ours
    clock.at += timedelta(minutes=3)
    tricky = "Line one\nline\u202etwo\u200b " + "x" * 200  # a newline, a bidi override, zero-width
    text = sms_form("+4520000001", tricky, sid="SM" + "7" * 32)
    api.post("/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", text))
    asked = entry()
    assert asked["needs_reply"] is True and asked["waiting_since"].startswith(
        clock.at.strftime("%Y-%m-%dT%H:%M")
    )
    assert asked["preview"].startswith("Line one linetwo xxx") and len(asked["preview"]) == 140
    assert not any(ch in asked["preview"] for ch in "\n\u202e\u200b")


def test_an_entry_is_unread_for_me_until_i_read_what_the_citizen_wrote(
    api, case_id, local_services
):
    def unread(header) -> bool:
        [summary] = json.loads(call(api, "GET", "/inbox", header).body)["cases"]
        return summary["unread"]

    assert unread(ANNA) is True and unread(BOSS) is True  # nobody has read it yet
    call(api, "GET", f"/cases/{case_id}", ANNA)
    assert unread(ANNA) is False and unread(BOSS) is True  # my read is mine only
    local_services.clock.at += timedelta(minutes=1)
    more = sms_form("+4520000001", "Hello?", sid="SM" + "8" * 32)
    api.post("/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", more))
    assert unread(ANNA) is True
    call(api, "GET", f"/cases/{case_id}", ANNA)
    assert unread(ANNA) is False


def test_close_and_reopen(api, case_id, local_services):
    call(api, "POST", f"/cases/{case_id}/claim", ANNA)
    newest = seen(case_id)
    closed = json.loads(
        call(
            api, "POST", f"/cases/{case_id}/close", ANNA, {"outcome": "referred", "seen": newest}
        ).body
    )
    assert closed["status"] == "closed"
    assert json.loads(call(api, "GET", "/inbox", ANNA).body)["cases"] == []
    assert [
        c["id"] for c in json.loads(call(api, "GET", "/inbox?status=closed", BOSS).body)["cases"]
    ] == [case_id]
    reply = call(
        api, "POST", f"/cases/{case_id}/replies", ANNA, {"body": "late", "seen": seen(case_id)}
    )
    assert reply.status_code == 409
    reopened = json.loads(call(api, "POST", f"/cases/{case_id}/reopen", ANNA).body)
    assert reopened["status"] == "queued"


def test_replies_to_an_opted_out_number_are_refused(api, case_id):
    api.post(
        "/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", sms_form("+4520000001", "STOP"))
    )
    answer = call(
        api, "POST", f"/cases/{case_id}/replies", ANNA, {"body": "Hello?", "seen": seen(case_id)}
    )
    assert answer.status_code == 409
    assert json.loads(answer.body)["error"]["code"] == "opted_out"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": "hi", "extra": 1}, "extra"),
        ({"body": 42}, "body"),
    ],
)
def test_a_bad_body_gets_400_naming_the_field(api, case_id, body, field):
    answer = call(api, "POST", f"/cases/{case_id}/notes", ANNA, body)
    assert answer.status_code == 400
    error = json.loads(answer.body)["error"]
    assert error["code"] == "invalid_field" and error["field"] == field


def test_malformed_json_and_bad_cursor_are_400(api, case_id):
    answer = api.post(f"/cases/{case_id}/notes", body="{not json", headers={**ANNA, **JSON})
    assert answer.status_code == 400
    assert json.loads(answer.body)["error"]["code"] == "invalid_json"
    answer = call(api, "GET", "/inbox?cursor=bm9wZQ", BOSS)
    assert answer.status_code == 400
    assert json.loads(answer.body)["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("channel=fax", "channel"),
        ("channel=note", "channel"),  # notes are ours, not a citizen's channel
        ("needs_reply=yes", "needs_reply"),
        ("chanel=sms", "chanel"),  # a misspelt filter is refused, not ignored
    ],
)
def test_unknown_inbox_filters_are_400_naming_the_parameter(api, case_id, query, field):
    answer = call(api, "GET", f"/inbox?{query}", ANNA)
    assert answer.status_code == 400
    error = json.loads(answer.body)["error"]
    assert (error["code"], error["field"]) == ("invalid_field", field)


def test_the_inbox_filters_by_channel_and_needs_reply(api, case_id):
    def ids(query: str) -> list[str]:
        return [
            c["id"] for c in json.loads(call(api, "GET", f"/inbox?{query}", ANNA).body)["cases"]
        ]

    assert ids("channel=sms&needs_reply=true") == [case_id]
    assert ids("channel=email") == [] and ids("needs_reply=false") == []
    call(api, "POST", f"/cases/{case_id}/replies", BOSS, {"body": "Hi!", "seen": seen(case_id)})
    assert ids("needs_reply=false") == [case_id] and ids("needs_reply=true") == []


def test_duty_status_keeps_shifts(api, case_id, local_services, clock):
    assert json.loads(call(api, "GET", "/practitioners/me", ANNA).body)["on_duty"] is False
    call(api, "PUT", "/practitioners/me/status", ANNA, {"on_duty": True})
    assert local_services.store.get_case(case_id).assignee == "anna"  # offered on arrival
    assert json.loads(call(api, "GET", "/practitioners/me", ANNA).body)["on_duty"] is True
    clock.at = clock.at.replace(hour=clock.at.hour + 2)
    off = json.loads(call(api, "PUT", "/practitioners/me/status", ANNA, {"on_duty": False}).body)
    assert off["on_duty"] is False
    shifts = json.loads(call(api, "GET", "/practitioners/anna/shifts", BOSS).body)["shifts"]
    assert len(shifts) == 1 and shifts[0]["start"] < shifts[0]["end"]


def test_staffing_set_duty_is_idempotent(local_services, clock):
    store = local_services.store
    store.create_practitioner(Practitioner("sam", "Sam", ("general",), ("da",), 2))
    sam = Actor("sam", "practitioner")
    staffing.set_duty(deps_of(store, clock()), sam, True)
    staffing.set_duty(deps_of(store, clock()), sam, True)
    staffing.set_duty(deps_of(store, clock()), sam, False)
    staffing.set_duty(deps_of(store, clock()), sam, False)
    assert len(store.shifts("sam")) == 1


def test_who_else_is_on_a_case_shows_on_it_and_its_entry_and_lapses_after_30s(
    api, case_id, local_services
):
    clock = local_services.clock
    answer = call(api, "POST", f"/cases/{case_id}/presence", ANNA, {"activity": "writing"})
    assert answer.status_code == 200 and json.loads(answer.body) == {"others": []}
    clock.at += timedelta(seconds=10)
    boss_sees = call(api, "POST", f"/cases/{case_id}/presence", BOSS, {"activity": "viewing"})
    assert json.loads(boss_sees.body)["others"] == [{"user_id": "anna", "activity": "writing"}]
    detail = json.loads(call(api, "GET", f"/cases/{case_id}", ANNA).body)
    assert detail["others"] == [{"user_id": "boss", "activity": "viewing"}]  # never myself
    [entry] = json.loads(call(api, "GET", "/inbox", BOSS).body)["cases"]
    assert entry["others"] == [{"user_id": "anna", "activity": "writing"}]
    clock.at += timedelta(seconds=21)  # anna's signal is 31 s old: it lapsed by itself
    [entry] = json.loads(call(api, "GET", "/inbox", BOSS).body)["cases"]
    assert entry["others"] == []
    assert json.loads(call(api, "GET", f"/cases/{case_id}", ANNA).body)["others"] == [
        {"user_id": "boss", "activity": "viewing"}  # 21 s old: still there
    ]


@pytest.mark.parametrize("body", [{}, {"activity": "typing"}, {"activity": "writing", "x": 1}])
def test_a_bad_presence_is_400_and_a_stranger_403(api, case_id, body):
    assert call(api, "POST", f"/cases/{case_id}/presence", ANNA, body).status_code == 400
    stranger = call(api, "POST", f"/cases/{case_id}/presence", OMAR, {"activity": "viewing"})
    assert stranger.status_code == 403


def test_a_mentioned_practitioner_finds_the_case_in_their_mentions(api, case_id, local_services):
    local_services.store.create_practitioner(Practitioner("bea", "Bea", ("general",), ("da",), 5))
    bea = bearer("bea", "practitioner")
    refused = call(api, "POST", f"/cases/{case_id}/notes", ANNA, {"body": "@bea and @omar?"})
    assert refused.status_code == 400 and error_code(refused) == "invalid_mention"  # omar: careers
    assert (
        call(api, "POST", f"/cases/{case_id}/notes", ANNA, {"body": "@nobody?"}).status_code == 400
    )
    assert (
        json.loads(call(api, "GET", "/mentions", bea).body)["mentions"] == []
    )  # nothing half done
    note = call(api, "POST", f"/cases/{case_id}/notes", ANNA, {"body": "@bea, can you take this?"})
    assert note.status_code == 201
    [mention] = json.loads(call(api, "GET", "/mentions", bea).body)["mentions"]
    assert (mention["case_id"], mention["author"]) == (case_id, "anna")
    assert mention["note_id"] == json.loads(note.body)["id"]
    assert json.loads(call(api, "GET", "/mentions", ANNA).body)["mentions"] == []
    assert json.loads(call(api, "GET", "/mentions", OMAR).body)["mentions"] == []


def test_a_mention_is_read_once_its_case_is_opened_and_the_mentions_page_on(
    api, case_id, local_services
):
    local_services.store.create_practitioner(Practitioner("bea", "Bea", ("general",), ("da",), 5))
    bea = bearer("bea", "practitioner")
    notes = []
    for n in range(3):
        local_services.clock.at += timedelta(seconds=1)
        note = call(api, "POST", f"/cases/{case_id}/notes", ANNA, {"body": f"@bea {n}"})
        notes.append(json.loads(note.body))
    assert json.loads(call(api, "GET", "/inbox", bea).body)["counts"]["mentions"] == 3
    call(api, "GET", f"/cases/{case_id}", ANNA)  # someone else opening it reads nothing of Bea's
    page = json.loads(call(api, "GET", "/mentions", bea).body)
    assert [m["read"] for m in page["mentions"]] == [False] * 3 and page["cursor"] is None
    assert call(api, "GET", f"/cases/{case_id}", bea).status_code == 200
    assert json.loads(call(api, "GET", "/inbox", bea).body)["counts"]["mentions"] == 0
    page = json.loads(call(api, "GET", "/mentions", bea).body)
    assert [m["read"] for m in page["mentions"]] == [True] * 3
    assert [m["note_id"] for m in page["mentions"]] == [n["id"] for n in reversed(notes)]
    for forged in ("x", "e30=", "A" * 600, page["mentions"][0]["note_id"]):
        answer = call(api, "GET", f"/mentions?cursor={forged}", bea)
        assert answer.status_code == 400 and error_code(answer) in (
            "invalid_cursor",
            "invalid_field",
        ), forged
    answer = call(api, "GET", "/mentions?limit=1000", bea)
    assert answer.status_code == 400 and error_code(answer) == "invalid_field"


def test_the_mentions_view_pages_with_its_cursor_none_twice_or_lost(case_id, local_services):
    from chalicelib.domain import casework

    local_services.store.create_practitioner(Practitioner("bea", "Bea", ("general",), ("da",), 5))
    deps, bea, made = local_services, Actor("bea", "practitioner"), []
    for n in range(7):
        local_services.clock.at += timedelta(seconds=n % 2)  # some in the same moment
        made.append(casework.add_note(deps, case_id, Actor("boss", "manager"), f"@bea {n}"))
    made.sort(key=lambda note: (note.at, note.id))
    seen_ids, cursor = [], None
    for _ in range(5):
        page, cursor = casework.mentions(deps, bea, cursor, limit=3)
        seen_ids += [m.note_id for m in page]
        if cursor is None:
            break
    assert seen_ids == [n.id for n in reversed(made)]


def error_code(answer) -> str:
    return json.loads(answer.body)["error"]["code"]


def test_canned_responses_shared_by_managers_personal_and_filled_in_a_reply(
    api, case_id, local_services
):
    shared = {"title": "Hello", "body": "Hi {first_name}, {practitioner} here.", "shared": True}
    assert call(api, "POST", "/canned", ANNA, shared).status_code == 403  # managers only
    made = json.loads(call(api, "POST", "/canned", BOSS, shared).body)
    mine = {"title": "Later", "body": "We open again {next_opening}."}
    own = json.loads(call(api, "POST", "/canned", ANNA, mine).body)
    assert own["shared"] is False and made["shared"] is True
    listed = [c["id"] for c in json.loads(call(api, "GET", "/canned", ANNA).body)["canned"]]
    assert listed == [made["id"], own["id"]]
    assert [c["id"] for c in json.loads(call(api, "GET", "/canned", OMAR).body)["canned"]] == [
        made["id"]  # not Anna's own
    ]
    bad = {"title": "x", "body": "Hi {surname}"}
    assert error_code(call(api, "POST", "/canned", ANNA, bad)) == "unknown_placeholder"
    call(api, "POST", f"/cases/{case_id}/claim", ANNA)
    unfilled = {"body": shared["body"], "canned_id": made["id"], "seen": seen(case_id)}
    answer = call(api, "POST", f"/cases/{case_id}/replies", ANNA, unfilled)
    assert error_code(answer) == "unfilled_placeholder"  # no braces ever reach the citizen
    foreign = {"body": "Hi", "canned_id": own["id"], "seen": seen(case_id)}
    answer = call(api, "POST", f"/cases/{case_id}/replies", BOSS, foreign)
    assert error_code(answer) == "unknown_canned"  # Anna's own is nobody else's
    sent = call(
        api,
        "POST",
        f"/cases/{case_id}/replies",
        ANNA,
        {**unfilled, "first_name": "Sofie"},
    )
    assert sent.status_code == 201, sent.body
    [reply] = [
        e
        for e in json.loads(call(api, "GET", f"/cases/{case_id}", ANNA).body)["timeline"]
        if e["author"] == "anna"
    ]
    assert (reply["body"], reply["canned_id"]) == ("Hi Sofie, Anna here.", made["id"])
    assert call(api, "DELETE", f"/canned/{made['id']}?shared=true", ANNA).status_code == 403
    assert call(api, "DELETE", f"/canned/{made['id']}?shared=true", BOSS).status_code == 204
    assert call(api, "DELETE", f"/canned/{own['id']}", ANNA).status_code == 204
    assert call(api, "DELETE", f"/canned/{own['id']}", ANNA).status_code == 404
    assert json.loads(call(api, "GET", "/canned", ANNA).body)["canned"] == []


def test_canned_responses_are_edited_by_whoever_may_keep_them_and_nobody_else(
    api, case_id, local_services
):
    shared = json.loads(
        call(api, "POST", "/canned", BOSS, {"title": "Hi", "body": "Hello", "shared": True}).body
    )
    own = json.loads(call(api, "POST", "/canned", ANNA, {"title": "Mine", "body": "Hej"}).body)
    edit = {"title": "Later", "body": "We open {next_opening}, {practitioner} here."}
    answer = call(api, "PUT", f"/canned/{own['id']}", ANNA, edit)
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body) == {**edit, "id": own["id"], "shared": False}
    shared_edit = {**edit, "shared": True}
    assert error_code(call(api, "PUT", f"/canned/{shared['id']}", ANNA, shared_edit)) == (
        "managers_only"
    )
    assert call(api, "PUT", f"/canned/{shared['id']}", BOSS, shared_edit).status_code == 200
    # someone else's own, a shared one edited as one's own, a forged id: all "no such" (404)
    for who, canned_id, body in (
        (OMAR, own["id"], edit),
        (BOSS, own["id"], edit),
        (ANNA, shared["id"], edit),
        (ANNA, "0" * 20, edit),
        (ANNA, "x" * 2000, edit),
        (ANNA, "..%2F" + own["id"], edit),
    ):
        answer = call(api, "PUT", f"/canned/{canned_id}", who, body)
        assert answer.status_code == 404 and error_code(answer) == "not_found", canned_id
    for bad, code in (
        ({"title": "x", "body": "Hi {surname}"}, "unknown_placeholder"),
        ({"title": "x", "body": "x" * 1601}, "invalid_field"),
        ({"title": "x", "body": {"nested": ["deep"]}}, "invalid_field"),
        ({"title": "x", "body": "Hi", "owner": "omar"}, "invalid_field"),
        ({"title": "x"}, "invalid_field"),
    ):
        answer = call(api, "PUT", f"/canned/{own['id']}", ANNA, bad)
        assert answer.status_code == 400 and error_code(answer) == code, bad
    listed = {c["id"]: c for c in json.loads(call(api, "GET", "/canned", ANNA).body)["canned"]}
    assert listed[own["id"]]["body"] == edit["body"]  # the refused edits changed nothing
    assert listed[shared["id"]]["shared"] is True
    assert [c["id"] for c in json.loads(call(api, "GET", "/canned", OMAR).body)["canned"]] == [
        shared["id"]
    ]
    call(api, "DELETE", f"/canned/{own['id']}", ANNA)
    assert call(api, "PUT", f"/canned/{own['id']}", ANNA, edit).status_code == 404  # not revived


def test_presence_every_15_s_records_each_active_minute_once(api, case_id, local_services, clock):
    """The web app repeats its presence every 15 s while a case is open: each minute counts
    towards handle time once, and is written once (not at every repeat)."""
    store = local_services.store
    written: list[str] = []

    def count(params, **_):
        if params.get("Key", {}).get("pk", {}).get("S", "").startswith("ACTIVE#"):
            written.append(params["Key"]["pk"]["S"])

    store.client.meta.events.register("provide-client-params.dynamodb.UpdateItem", count)
    started = clock.at
    for seconds in (0, 15, 30, 45, 60, 75, 135):  # minutes 0, 1 and (after a gap) 2
        clock.at = started + timedelta(seconds=seconds)
        activity = {"activity": "writing" if seconds == 30 else "viewing"}
        assert call(api, "POST", f"/cases/{case_id}/presence", ANNA, activity).status_code == 200
    assert len(written) == 3
    [hour] = store.active_time(started - timedelta(hours=1), started + timedelta(hours=1))
    assert (hour.case_id, hour.user_id, hour.minutes) == (case_id, "anna", 3)
