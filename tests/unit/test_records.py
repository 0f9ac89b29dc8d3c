"""The domain's records behave as the frozen dataclasses they replace, and cost a cold start
nothing: one set of methods for every class, none compiled when the model is imported."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime

import pytest

from chalicelib.domain import model
from chalicelib.domain.model import Attachment, EmailDetails, Identity, Interaction
from chalicelib.domain.records import record


@dataclasses.dataclass(frozen=True)
class ReferenceIdentity:
    kind: str
    value: str


def test_a_record_is_built_compared_hashed_and_shown_as_a_frozen_dataclass_would_be() -> None:
    phone = Identity("phone", "+4520000001")
    same = Identity(kind="phone", value="+4520000001")
    reference = ReferenceIdentity("phone", "+4520000001")
    assert phone == same and hash(phone) == hash(same) == hash(reference)
    assert phone != Identity("email", "+4520000001") and phone != reference
    assert repr(phone) == repr(reference).replace("ReferenceIdentity", "Identity")
    assert {phone, same} == {phone}
    assert dataclasses.is_dataclass(phone)
    assert [f.name for f in dataclasses.fields(phone)] == ["kind", "value"]
    assert dataclasses.asdict(phone) == {"kind": "phone", "value": "+4520000001"}
    assert pickle.loads(pickle.dumps(phone)) == phone


def test_defaults_factories_and_replace() -> None:
    details = EmailDetails("Hello", None)
    other = EmailDetails("Hello", None)
    assert details.attachments == () and details.verdicts == {} and details.new_message_id
    assert details.verdicts is not other.verdicts  # a fresh dict each, as default_factory does
    flagged = dataclasses.replace(details, needs_review="too large")
    assert flagged.needs_review == "too large" and flagged.subject == "Hello"
    assert details.needs_review is None
    at = datetime(2026, 11, 24, 9, tzinfo=UTC)
    note = Interaction("i1", "c1", "note", "internal", at, "text")
    assert note.media == () and note.status is None


def test_a_record_cannot_be_changed() -> None:
    file = Attachment("cv.pdf", "application/pdf", 1000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        file.size = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del file.size


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("phone",), {}),  # missing
        (("phone", "+45", "extra"), {}),  # too many
        (("phone",), {"kind": "email", "value": "x"}),  # given twice
        (("phone", "+45"), {"colour": "red"}),  # unknown
    ],
)
def test_wrong_arguments_are_refused(args: tuple[str, ...], kwargs: dict[str, str]) -> None:
    with pytest.raises(TypeError):
        Identity(*args, **kwargs)


def test_no_model_class_carries_generated_methods() -> None:
    """What keeps the cold path short: `@dataclass(frozen=True)` would compile six methods for
    each class at import (~12 ms for the model); records share one set."""
    classes = [c for c in vars(model).values() if dataclasses.is_dataclass(c)]
    assert len(classes) > 20
    for method in ("__init__", "__eq__", "__hash__", "__repr__", "__setattr__"):
        assert len({getattr(c, method) for c in classes}) == 1, method


def test_a_records_fields_are_those_dataclass_would_make() -> None:
    @dataclasses.dataclass(frozen=True)
    class Reference:
        subject: str
        tags: dict[str, str] = dataclasses.field(default_factory=dict)
        size: int = 3

    @record
    class Made:
        subject: str
        tags: dict[str, str] = dataclasses.field(default_factory=dict)
        size: int = 3

    def shape(cls: type) -> list[tuple[object, ...]]:
        return [(f.name, f.type, f.default, f.default_factory) for f in dataclasses.fields(cls)]

    assert shape(Made) == shape(Reference)
    # the class attributes are left as dataclass leaves them: a default stays, a factory's goes
    assert Made.size == Reference.size == 3
    assert not hasattr(Made, "tags") and not hasattr(Reference, "tags")
    assert Made.__match_args__ == Reference.__match_args__
    assert dataclasses.replace(Made("a"), size=4) == Made("a", {}, 4)


def test_a_record_does_not_inherit_another_records_fields() -> None:
    with pytest.raises(TypeError):

        @record
        class Longer(Identity):
            extra: str
