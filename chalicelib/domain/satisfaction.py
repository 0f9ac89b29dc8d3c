"""Asking citizens how it went, once per case, and keeping their answer with the case and the
practitioner who handled it.

A case closed with an outcome that answered the citizen is asked on the channel of their latest
message: each channel adds only its own way of asking (`ASKERS`: an SMS "reply 1-5", an email
with a link to a one-question page, a card in an open web chat; a call is asked at its end by
the phone menu). Never a high-risk case, never an opted-out number or a bouncing address,
never twice for one case (the store's once-per-case marker). The ask goes through `delivery`
like every message, and a note on the case (`survey-asked`) is what the report counts.

Answers: an SMS "1".."5" (also "5!", " 4 ") from the asked number within `ANSWER_DAYS` is the
rating; anything else is an ordinary message (intake goes on as always). The link's token is
random, single-purpose and stored hashed; an unknown, expired or answered token reveals
nothing. A rating is kept once: answering again changes nothing."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from chalicelib.domain import delivery
from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.domain.ids import interaction_id
from chalicelib.domain.model import (
    Case,
    Identity,
    InboundMessage,
    Interaction,
    Survey,
    new_entry,
)

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps

log = logging.getLogger("contact-centre")

ANSWERING_OUTCOMES = ("answered", "referred")  # the citizen got an answer
ANSWER_DAYS = 7
MAX_COMMENT = 1000
RATING = r"\s*([1-5])\s*!*\s*"
TOKEN = r"[A-Za-z0-9_-]{32}"


def asks(case: Case) -> bool:
    """Whether a closed case may be asked at all (the channel's own rules come after)."""
    high_risk = case.risk is not None and case.risk.level == "high"
    return case.outcome in ANSWERING_OUTCOMES and not high_risk and case.erased_at is None


def after_close(deps: Deps, case: Case) -> None:
    """Ask the citizen of a just-closed case, if it qualifies; never raises (the close stands)."""
    channel = case.last_inbound_channel or case.channel
    asker = ASKERS.get(channel)
    if asker is None or not asks(case) or case.reply_to is None:
        return
    try:
        delivery.refuse_unreachable(deps, channel, case.reply_to)
        asker(deps, case)
    except Conflict:
        log.info("satisfaction not asked: unreachable", extra={"case_id": case.id})
    except Exception:
        log.exception("satisfaction not asked", extra={"case_id": case.id})


def _start(deps: Deps, case: Case, channel: str, key: str) -> bool:
    now = deps.clock()
    survey = Survey(case.id, channel, now, case.assignee, deps.wording().language(case.language))
    if not deps.store.start_survey(key, survey, now + timedelta(days=ANSWER_DAYS)):
        return False  # asked before (closed, reopened, closed again)
    body = f"Satisfaction asked by {channel}"
    note = new_entry(
        case.id, now, "note", "internal", body, status="survey-asked", provider=channel
    )
    deps.store.add_interaction(note)
    return True


def _ask_by_sms(deps: Deps, case: Case) -> None:
    assert case.reply_to is not None
    if _start(deps, case, "sms", phone_key(case.reply_to.value)):
        text = deps.wording().say(deps.wording().language(case.language), "sms.survey")
        delivery.send(
            deps, delivery.Outgoing(case.id, "sms", case.reply_to.value, text, automated=True)
        )


def _ask_by_email(deps: Deps, case: Case) -> None:
    from chalicelib.domain import mail

    assert case.reply_to is not None
    token = secrets.token_urlsafe(24)  # 32 characters, 192 bits
    if not _start(deps, case, "email", token_key(token)):
        return
    words = deps.wording()
    language = words.language(case.language)
    text = words.say(language, "email.survey", link=deps.public_url(f"/survey/{token}"))
    raw, _ = mail.compose(
        deps,
        mailbox=mail.mailbox_for(case),
        token=case.reply_token,
        to=case.reply_to.value,
        subject=case.email_subject or words.say(language, "email.survey_subject"),
        body=text,
        thread=case.email_thread,
        automatic=True,
    )
    # the timeline keeps the words without the link: the token is stored hashed only
    kept = words.say(language, "email.survey", link="[satisfaction link]")
    out = delivery.Outgoing(case.id, "email", case.reply_to.value, kept, raw=raw, automated=True)
    delivery.send(deps, out)


def _ask_by_chat(deps: Deps, case: Case) -> None:
    """A card in the open conversation (a service message the widget shows with 1-5 buttons
    and a comment); a citizen who has ended the chat, or whose chat lapsed, is not asked."""
    assert case.reply_to is not None
    conversation = case.reply_to.value
    if not deps.store.chat_is_open(conversation, deps.clock()):
        return
    if _start(deps, case, "chat", chat_key(conversation)):
        text = deps.wording().say(deps.wording().language(case.language), "survey.question")
        out = delivery.Outgoing(case.id, "chat", conversation, text, automated=True, card="survey")
        delivery.send(deps, out)


ASKERS: dict[str, Callable[[Deps, Case], None]] = {
    "sms": _ask_by_sms,
    "email": _ask_by_email,
    "chat": _ask_by_chat,
}


def answer_chat(deps: Deps, token: str, rating: int, comment: str | None) -> None:
    """The chat card's answer, under the conversation's token (404 for an unknown or ended
    one, like every chat route); 409 when nothing was asked here or it was answered."""
    from chalicelib.domain import chat

    conversation = chat.find(deps, token)
    key = chat_key(conversation.id)
    survey = deps.store.find_survey(key, deps.clock())
    if survey is None or survey.channel != "chat":
        raise Conflict("There is no question to answer here.", code="not_asked")
    if survey.rating is not None or not _answer(
        deps, key, survey, rating, clean(comment or ""), "chat", "chat"
    ):
        raise Conflict("You have answered already. Thank you!", code="already_rated")


def ask_on_call(deps: Deps, case_id: str, call_id: str, caller: str | None) -> bool:
    """Whether to ask a caller who talked to a practitioner, at the end of the call (and the
    question is recorded as asked): never a withheld or opted-out number, never a high-risk
    case, once per case. The case's outcome is not known yet: a call that reached someone is
    the answer."""
    case = deps.store.get_case(case_id)
    if case is None or caller is None or case.erased_at is not None:
        return False
    if case.risk is not None and case.risk.level == "high":
        return False
    record = deps.store.find_identity(Identity("phone", caller))
    if record is not None and record.opted_out:
        return False
    return _start(deps, case, "voice", call_key(case_id, call_id))


def take_call(deps: Deps, case_id: str, call_id: str, digits: str | None) -> bool:
    """The caller's keypress after the question: the rating, once; anything else nothing."""
    rating = rating_of(digits or "")
    key = call_key(case_id, call_id)
    survey = deps.store.find_survey(key, deps.clock())
    if rating is None or survey is None or survey.rating is not None:
        return False
    return _answer(deps, key, survey, rating, "", "voice", call_id)


def chat_key(conversation_id: str) -> str:
    return f"chat#{conversation_id}"


def call_key(case_id: str, call_id: str) -> str:
    return f"call#{case_id}.{call_id}"


def phone_key(number: str) -> str:
    """A digest, not the number: the question outlives nothing personal (and expires in 7 days)."""
    return "phone#" + hashlib.sha256(number.encode()).hexdigest()


def token_key(token: str) -> str:
    return "token#" + hashlib.sha256(token.encode()).hexdigest()


def rating_of(text: str) -> int | None:
    found = re.fullmatch(RATING, text)
    return int(found.group(1)) if found else None


def take_sms(deps: Deps, message: InboundMessage) -> str | None:
    """The case an SMS rated (recorded once; a retry of the same SMS finds it recorded), or
    None: not a rating, nothing asked of this number lately, or the citizen has an open case
    again; intake takes it as usual."""
    rating = rating_of(message.body)
    if rating is None or message.sender.kind != "phone":
        return None
    key = phone_key(message.sender.value)
    survey = deps.store.find_survey(key, deps.clock())
    if survey is None or survey.channel != "sms":
        return None
    record = deps.store.find_identity(message.sender)
    if record is not None and record.open_case_id and not record.open_case_booked:
        # the shortcut may name the closed case: the open-case pointer is the truth
        if deps.store.find_open_case(record.contact_id):
            return None  # a conversation is open again: "3" may answer a practitioner
    if survey.rating is not None:  # the same SMS again (Twilio retried) is taken; a new one is not
        return survey.case_id if survey.answered_by == message.provider_id else None
    if _answer(deps, key, survey, rating, "", "sms", message.provider_id):
        return survey.case_id
    fresh = deps.store.find_survey(key, deps.clock())
    return survey.case_id if fresh and fresh.answered_by == message.provider_id else None


def survey_for(deps: Deps, token: str) -> Survey | None:
    """The question a link's token names, if it is one of ours and still open to answer."""
    if not re.fullmatch(TOKEN, token):
        return None
    survey = deps.store.find_survey(token_key(token), deps.clock())
    return survey if survey is not None and survey.channel == "email" else None


def answer_page(deps: Deps, token: str, rating: str | None, comment: str | None) -> Survey | None:
    """The web page's answer; None for a token that is not a live question (the page says
    only that the link does not work). A second answer changes nothing."""
    survey = survey_for(deps, token)
    if survey is None:
        return None
    value = rating_of(rating or "")
    if value is None:
        raise InvalidInput("rating must be a whole number from 1 to 5.", code="invalid_rating")
    if survey.rating is None:
        _answer(deps, token_key(token), survey, value, clean(comment or ""), "email", "page")
    return survey


def clean(comment: str) -> str:
    """A comment as a practitioner reads it: control and format characters (bidi overrides,
    zero-width) dropped except line breaks, at most `MAX_COMMENT` characters."""
    kept = "".join(
        ch for ch in comment if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
    )
    if len(kept) > MAX_COMMENT:
        raise InvalidInput(
            f"The comment can be at most {MAX_COMMENT} characters.", code="comment_too_long"
        )
    return kept.strip()


def _answer(
    deps: Deps,
    key: str,
    survey: Survey,
    rating: int,
    comment: str,
    channel: Literal["sms", "email", "voice", "chat"],
    by: str,
) -> bool:
    now = deps.clock()
    body = f"Rated {rating} of 5" + (f": {comment}" if comment else "")
    entry = Interaction(
        interaction_id(now),
        survey.case_id,
        now,
        channel,  # sms, email, voice or chat: the channel it came by
        "in",
        body,
        status="rating",
        rating=rating,
        author=survey.practitioner,
        provider_id=by if channel not in ("email", "chat") else None,
    )
    return deps.store.answer_survey(key, rating, by, entry)
