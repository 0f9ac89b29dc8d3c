"""`record`: a frozen dataclass whose methods are shared by every record class, not generated.

Why: `@dataclass(frozen=True)` writes six methods per class as source and compiles them when the
module is imported; `model.py`'s classes cost ~12 ms of every cold start that way, most of what
the SMS webhook's cold path spends beyond `import chalice, boto3` (issue 15, item 7). A record
keeps what the code relies on: `dataclasses.fields`, `replace` and `asdict`, construction by
position or keyword with defaults and default factories, equality and hashing by value, a repr
naming the fields, immutability, `__post_init__` and a class's own `__hash__`. With one set of
functions for all classes, importing a record class compiles nothing; building one costs ~1 us
more (a few per SMS). Nor does a record go through `dataclass()` itself, whose checks of every
annotation (regular expressions over each string, for ClassVar and InitVar, which no record
uses) cost the SMS cold path another ~3 ms: its `Field`s are made here, as dataclasses would
make them. mypy sees a frozen dataclass (`dataclass_transform`).
"""

from __future__ import annotations

from dataclasses import (  # type: ignore[attr-defined]  # _FIELD: private, stable since 3.7
    _FIELD,
    MISSING,
    Field,
    FrozenInstanceError,
    field,
)
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """`@dataclass(frozen=True)`, without compiling or inspecting anything per class."""
    if any("__dataclass_fields__" in vars(base) for base in cls.__mro__[1:]):
        raise TypeError(f"{cls.__name__}: a record does not inherit another's fields")
    namespace = vars(cls)  # a live view: it follows the changes below
    found: dict[str, Field[Any]] = {}
    for name, annotation in namespace.get("__annotations__", {}).items():
        given = namespace.get(name, MISSING)
        # As dataclass leaves them: a field() is replaced by its default (or removed), a plain
        # default stays the class attribute.
        if isinstance(given, Field):
            made: Field[Any] = given
            if made.default is MISSING:
                type.__delattr__(cls, name)
            else:
                type.__setattr__(cls, name, made.default)
        else:
            made = field(default=given)
        made.name, made.type = name, annotation
        setattr(made, "_field_type", _FIELD)  # noqa: B010  # private: the mark fields() selects on
        found[name] = made
    spec = tuple((f.name, f.default, f.default_factory) for f in found.values())
    attributes = {
        "__dataclass_fields__": found,  # what fields(), replace(), asdict() and is_dataclass read
        "__match_args__": tuple(found),
        "__record__": spec,
        "__record_names__": tuple(found),
        "__init__": _init,
        "__repr__": _repr,
        "__eq__": _eq,
        "__hash__": _hash,
        "__setattr__": _frozen,
        "__delattr__": _frozen,
    }
    for name, value in attributes.items():
        if name not in namespace:  # a class's own method wins, as with dataclass (`__hash__`)
            type.__setattr__(cls, name, value)
    return cls


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    spec = self.__record__
    if len(args) > len(spec):
        raise TypeError(f"{type(self).__name__}() takes {len(spec)} arguments, got {len(args)}")
    assign = object.__setattr__
    for (name, _, _), value in zip(spec, args, strict=False):
        if kwargs and name in kwargs:
            raise TypeError(f"{type(self).__name__}() got multiple values for {name!r}")
        assign(self, name, value)
    for name, default, factory in spec[len(args) :]:
        value = kwargs.pop(name, MISSING) if kwargs else MISSING
        if value is MISSING:
            if default is not MISSING:
                value = default
            elif factory is not MISSING:
                value = factory()
            else:
                raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
        assign(self, name, value)
    if kwargs:
        raise TypeError(f"{type(self).__name__}() got unexpected arguments {sorted(kwargs)}")
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in self.__record_names__)


def _eq(self: Any, other: object) -> object:  # a bool, or NotImplemented for another class
    if other.__class__ is self.__class__:
        return _values(self) == _values(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_names__)
    return f"{type(self).__qualname__}({shown})"


def _frozen(self: Any, name: str, *value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")
