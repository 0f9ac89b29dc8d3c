"""The helpline's phone menu as decisions, free of TwiML: the edge renders each outcome.

Every call lands on the caller's one case (the phone number identifies them, as for SMS), answered
or not. Inside opening hours the caller picks a topic, which sets the case's queue, and is
connected to a practitioner; outside hours, or when nobody can answer, the caller is offered a
voicemail or a callback, and whatever they choose is kept on the case.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from chalicelib.domain import (
    autoreplies,
    delivery,
    intake,
    routing,
    safeguarding,
    satisfaction,
    wording,
)
from chalicelib.domain.delivery import Outgoing
from chalicelib.domain.destinations import DEFAULT_COUNTRY_CODES, E164, destination_allowed
from chalicelib.domain.errors import (
    Conflict,
    Forbidden,
    MessageRejected,
    NotFound,
    ProviderUnavailable,
)
from chalicelib.domain.model import (
    Actor,
    Case,
    CaseRef,
    InboundMessage,
    Interaction,
    Media,
    Practitioner,
    StatusUpdate,
    new_entry,
)

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, VoiceStore

log = logging.getLogger("contact-centre")
MENU = {"1": "education", "2": "careers", "3": "general"}
# The first question, "Tryk 1 for dansk, press 2 for English": digits in `wording.LANGUAGES`
# order, or the language's name said in either language.
LANGUAGE_WORDS = {"dansk": "da", "danish": "da", "english": "en", "engelsk": "en"}
SPOKEN = {
    "education": "education",
    "study": "education",
    "studies": "education",
    "uddannelse": "education",
    "career": "careers",
    "careers": "careers",
    "job": "careers",
    "jobs": "careers",
    "work": "careers",
    "karriere": "careers",
    "other": "general",
    "something": "general",
    "andet": "general",
}
MAX_MENU_ATTEMPTS = 3  # the first time, then repeated at most twice
# Callback requests a number may get from the phone menu per day: the menu is open to anyone,
# and every request is a call we pay for and a practitioner's time.
CALLBACKS_PER_NUMBER_PER_DAY = 3

FINAL = {"completed", "busy", "no-answer", "failed", "canceled"}


@dataclass(frozen=True)
class Call:
    """A call in progress: its case and its interaction on the case timeline."""

    case_id: str
    interaction_id: str
    caller: str | None  # None: caller id withheld


# --- what the caller hears next ------------------------------------------------------------


@dataclass(frozen=True)
class Welcome:
    """The call is recorded: the caller is asked their language first."""

    call: Call


@dataclass(frozen=True)
class Greeting:
    """The language is chosen: open, the topics follow; closed, the next opening and options."""

    language: str
    open: bool
    next_opening: str | None  # in the caller's language, when closed
    can_call_back: bool = True


@dataclass(frozen=True)
class Menu:
    """A question asked (again): the caller's language first, then the topic."""

    question: Literal["lang", "topic"]
    attempt: int


@dataclass(frozen=True)
class Connect:
    practitioner_id: str
    phone: str | None  # None: the practitioner's Twilio Client identity is their id


@dataclass(frozen=True)
class Options:
    """Voicemail or callback; `reason` says why nobody is answering."""

    reason: Literal["closed", "busy", "no_answer"]
    attempt: int = 1
    can_call_back: bool = True


@dataclass(frozen=True)
class Voicemail:
    pass


@dataclass(frozen=True)
class CallbackNumber:
    caller_last_digits: str | None
    attempt: int = 1


@dataclass(frozen=True)
class Goodbye:
    key: str  # the template said before hanging up


@dataclass(frozen=True)
class RateCall:
    """After a practitioner hung up: how did we do, 1-5 on the keypad (silence: goodbye)."""


@dataclass(frozen=True)
class Crisis:
    """A caller whose words were assessed high risk hears the crisis lines first, in the call's
    language, then goes on (to a practitioner, `safeguarding` first, without being asked again
    for a topic)."""

    language: str
    crisis_lines: str
    then: Menu | Connect | Options


Next = (
    Menu | Greeting | Connect | Options | Voicemail | CallbackNumber | Goodbye | Crisis | RateCall
)


# --- the steps -----------------------------------------------------------------------------


def answer(deps: Deps, message: InboundMessage) -> Welcome:
    """A call arrives: it is recorded on the caller's case before anything is said."""
    outcome = intake.receive(deps, message)
    caller = message.sender.value if message.sender.kind == "phone" else None
    return Welcome(Call(outcome.case_id, outcome.interaction_id or "", caller))


def language_for(choice: str | None) -> str | None:
    choice = (choice or "").strip().lower()
    if choice.isascii() and choice.isdigit() and 1 <= int(choice) <= len(wording.LANGUAGES):
        return wording.LANGUAGES[int(choice) - 1]
    for word in re.findall(r"[a-zæøå]+", choice):
        if word in LANGUAGE_WORDS:
            return LANGUAGE_WORDS[word]
    return None


def choose_language(deps: Deps, call: Call, choice: str | None, attempt: int) -> Next:
    """The caller's language is kept on the case (routing prefers practitioners who speak it)
    and travels in every later menu URL. A choice is their contact's language from now on
    (their next SMS's case starts in it); unanswered three times, the case's language stays
    (the contact's, for a caller we know; else the service's default), and nothing changes."""
    chosen = language_for(choice)
    if chosen is None and attempt < MAX_MENU_ATTEMPTS:
        return Menu("lang", attempt + 1)
    words = deps.wording()
    store: VoiceStore = deps.store
    case = store.get_case(call.case_id)
    language = words.language(chosen or (case.language if case else None))
    if case is not None and chosen:
        store.set_case_language(case.id, language)
        store.set_contact_language(case.contact_id, language)
    hours, now = deps.hours(), deps.clock()
    if hours.is_open(now):
        return Greeting(language, True, None)
    opening = autoreplies.next_opening(words, language, hours, now)
    return Greeting(language, False, opening, can_call_back=call.caller is not None)


def topic_for(choice: str | None) -> str | None:
    choice = (choice or "").strip().lower()
    if choice in MENU:
        return MENU[choice]
    for word in re.findall(r"[a-zæøå]+", choice):
        if word in SPOKEN:
            return SPOKEN[word]
    return None


def choose_topic(
    call: Call,
    choice: str | None,
    attempt: int,
    store: VoiceStore,
    now: datetime,
    *,
    urgent: bool = False,
) -> Menu | Connect | Options:
    """The caller's choice sets the case's queue; then someone on duty is found, or not. An
    `urgent` caller (high risk) is never asked again: no topic means the general queue."""
    queue = topic_for(choice)
    if queue is None and attempt < MAX_MENU_ATTEMPTS and not urgent:
        return Menu("topic", attempt + 1)
    queue = queue or "general"
    case = store.get_case(call.case_id)
    if case is None:
        return Options("busy", can_call_back=call.caller is not None)
    practitioner = _who_answers(case, queue, store, now)
    if practitioner is None:
        return Options("busy", can_call_back=call.caller is not None)
    return Connect(practitioner.id, practitioner.phone)


def _who_answers(case: Case, queue: str, store: VoiceStore, now: datetime) -> Practitioner | None:
    if case.status == "assigned" and case.assignee:
        assignee = store.get_practitioner(case.assignee)
        if assignee is not None and assignee.on_duty:
            return assignee
        return None
    if case.status == "queued":
        store.set_waiting_queue(case.id, queue)
        level = case.risk.level if case.risk else None
        waiting = CaseRef(case.id, queue, case.language, case.contact_id, risk=level)
        chosen = routing.route(waiting, store, now)
        return store.get_practitioner(chosen) if chosen else None
    return None


def after_dial(deps: Deps, call: Call, dial_status: str | None, talked: int | None = None) -> Next:
    """The <Dial> ended: whether a practitioner answered is kept on the call, and when the
    caller's wait ended (for the calls' service level): answered, now less the `talked` seconds
    of the bridged call (Twilio's DialCallDuration); unanswered, now. A caller who talked to
    one may be asked how it went (`satisfaction.ask_on_call`)."""
    answered = dial_status == "completed"
    until = deps.clock() - timedelta(seconds=talked if answered and talked else 0)
    deps.store.mark_call_answered(call.case_id, call.interaction_id, answered)
    deps.store.mark_call_wait(call.case_id, call.interaction_id, until, ended=True)
    if dial_status == "completed":
        asked = satisfaction.ask_on_call(deps, call.case_id, call.interaction_id, call.caller)
        return RateCall() if asked else Goodbye("voice.goodbye_answered")
    return Options("no_answer", can_call_back=call.caller is not None)


def choose_option(call: Call, choice: str | None, attempt: int, reason: str) -> Next:
    choice = (choice or "").strip().lower()
    if choice in ("1", "voicemail", "message", "besked"):
        return Voicemail()
    if choice in ("2", "callback", "call back", "ring", "ring tilbage"):
        last = call.caller[-2:] if call.caller else None
        return CallbackNumber(last)
    if attempt < MAX_MENU_ATTEMPTS:
        return Options(reason, attempt + 1, can_call_back=True)  # type: ignore[arg-type]  # one of Options' reasons, passed on
    return Voicemail()


@dataclass(frozen=True)
class CallbackRules:
    """Which numbers the phone menu takes for a callback, and how often."""

    countries: tuple[str, ...] = DEFAULT_COUNTRY_CODES
    per_number_per_day: int = CALLBACKS_PER_NUMBER_PER_DAY


def book_callback(
    call: Call,
    digits: str | None,
    attempt: int,
    store: VoiceStore,
    now: datetime,
    rules: CallbackRules = CallbackRules(),
) -> Next:
    """'1' (or nothing) confirms the caller id; other digits are the number to call back.

    Only numbers in the allowed countries are taken (a typed-in premium or foreign number would
    be called at our cost), a case holds one pending request, and a number gets at most
    `rules.per_number_per_day` requests a day; the caller is told which, politely."""
    digits = re.sub(r"[^0-9+]", "", digits or "")
    if digits in ("", "1") and call.caller:
        number = call.caller
    else:
        number = "+" + digits.lstrip("+").removeprefix("00") if digits else ""
    if not re.fullmatch(E164, number):
        if attempt < MAX_MENU_ATTEMPTS:
            return CallbackNumber(call.caller[-2:] if call.caller else None, attempt + 1)
        return Goodbye("voice.bad_number")
    if not destination_allowed(number, rules.countries):
        return Goodbye("voice.country_not_allowed")
    case = store.get_case(call.case_id)
    if case is not None and case.callback_number:
        return Goodbye("voice.callback_exists")
    if not store.count_callback_request(number, now, rules.per_number_per_day):
        return Goodbye("voice.callback_limit")
    store.request_callback(call.case_id, number, now)
    body, status = "Callback requested", "callback-requested"
    entry = new_entry(call.case_id, now, "voice", "in", body, provider="twilio", status=status)
    store.add_interaction(entry)
    _offer(call.case_id, store, now)
    return Goodbye("voice.callback_booked")


def record_voicemail(deps: Deps, call: Call, recording_sid: str, url: str, duration: int) -> None:
    """The recording becomes an interaction on the case; the same recording twice is one."""
    store: VoiceStore = deps.store
    now = deps.clock()
    voicemail = Interaction(
        id=f"{call.interaction_id}-{recording_sid}",
        case_id=call.case_id,
        at=now,
        channel="voice",
        direction="in",
        body=f"Voicemail ({duration} s)",
        provider="twilio",
        provider_id=recording_sid,
        status="voicemail",
        duration_seconds=duration,
        media=(Media(url, "audio/x-wav"),),
    )
    if store.add_interaction_once(voicemail):  # False: a retry of the same recording
        _offer(call.case_id, store, now)


def _offer(case_id: str, store: VoiceStore, now: datetime) -> None:
    """New activity on a waiting case: like any new message, it goes to its queue's routing."""
    case = store.get_case(case_id)
    if case is not None and case.status == "queued":
        routing.route(CaseRef(case.id, case.queue, case.language, case.contact_id), store, now)


def call_status(deps: Deps, call: Call, status: str, duration: int | None) -> bool:
    """Forward-only: late, repeated or reordered callbacks never move it back nor add minutes."""
    store: VoiceStore = deps.store
    rank = delivery.rank("voice", status)  # Twilio's call statuses in lifecycle order
    if rank is None:
        return False
    minutes = duration if status in FINAL else None
    update = StatusUpdate(status, rank, duration_seconds=minutes)
    return store.update_delivery_status(call.case_id, call.interaction_id, update)


def start_callback(deps: Deps, case_id: str, actor: Actor) -> Interaction:
    """A practitioner calls the citizen back: their phone rings first, then the citizen's."""
    store: VoiceStore = deps.store
    case = store.get_case(case_id)
    if case is None:
        raise NotFound("No such case.")
    practitioner = store.get_practitioner(actor.user_id)
    if practitioner is None:
        raise Forbidden("No practitioner profile for this user.")
    mine = case.assignee == actor.user_id or (
        case.assignee is None and case.queue in practitioner.queues
    )
    if not mine:
        raise Forbidden("This case is not yours to call back.")
    if not practitioner.phone:
        raise Conflict("Add your phone number to your profile to make callbacks.", code="no_phone")
    number = case.callback_number or (
        case.reply_to.value if case.reply_to and case.reply_to.kind == "phone" else None
    )
    if number is None:
        raise Conflict("There is no number to call back.", code="no_number")
    out = Outgoing(
        case_id, "voice", number, "Callback", author=actor.user_id, caller=practitioner.phone
    )
    try:
        sent = delivery.send(deps, out)
    except Exception as error:
        # A call is live, not something to send later: the attempt failed on the case, the
        # citizen's request stays pending, and the practitioner is told why.
        if isinstance(error, MessageRejected):
            raise Conflict(
                "The phone provider will not call this number.", code="not_callable"
            ) from error
        raise ProviderUnavailable(
            "The phone provider did not place the call; try again."
        ) from error
    store.clear_callback(case_id)
    assert sent.message is not None
    return sent.message


def _topic_heard(deps: Deps, call: Call, choice: str | None, attempt: int) -> Next:
    """The menu's speech result is the caller's words: assessed like any message (best effort:
    the call goes on whatever happens there). High risk: the crisis lines, then a person."""
    level = None
    if choice and not choice.strip().isdigit():
        try:
            level = safeguarding.on_inbound(deps, call.case_id, choice)
        except Exception:
            log.exception("risk assessment failed", extra={"case_id": call.case_id})
    store: VoiceStore = deps.store
    urgent = level == "high"
    then = choose_topic(call, choice, attempt, store, deps.clock(), urgent=urgent)
    if isinstance(then, Connect):  # the <Dial> starts: the caller waits for a practitioner
        store.mark_call_wait(call.case_id, call.interaction_id, deps.clock(), ended=False)
    if not urgent:
        return then
    case = store.get_case(call.case_id)
    language = deps.wording().language(case.language if case else None)
    return Crisis(language, deps.settings.crisis_lines, then)


def find_call(deps: Deps, call_sid: str, caller: str | None) -> Call | None:
    """A call's case and interaction, from the dedupe item its arrival wrote."""
    store: VoiceStore = deps.store
    delivery = store.find_delivery("twilio", call_sid)
    if delivery is None or delivery.interaction_id is None:
        return None
    return Call(delivery.case_id, delivery.interaction_id, caller)


def menu(
    deps: Deps,
    call: Call | None,
    step: str,
    attempt: int,
    reason: str,
    choice: str | None,
    dial_status: str | None,
    talked: int | None = None,
) -> Next:
    """One answer of the caller (or of a <Dial>), and what they hear next. Callbacks are held
    to the settings' countries and daily limit per number."""
    store: VoiceStore = deps.store
    now = deps.clock()
    settings = deps.settings
    rules = CallbackRules(settings.allowed_country_codes, settings.callbacks_per_number_per_day)
    if call is None:
        return Goodbye("voice.error")
    if step == "lang":
        return choose_language(deps, call, choice, attempt)
    if step == "topic":
        return _topic_heard(deps, call, choice, attempt)
    if step == "dialed":
        return after_dial(deps, call, dial_status, talked)
    if step == "rate":
        satisfaction.take_call(deps, call.case_id, call.interaction_id, choice)
        return Goodbye("voice.goodbye_answered")
    if step == "offer":
        return choose_option(call, choice, attempt, reason)
    if step == "callback":
        return book_callback(call, choice, attempt, store, now, rules)
    return Goodbye("voice.recorded")
