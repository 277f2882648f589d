"""Requests built and answers read without zeep's generic machinery, following the WSDL's types
as zeep parsed them (issue 12: zeep's generic parse was a fifth of a hours re-run's CPU, its
envelope building and reply handling a tenth of a first pass's).

``Request.build`` gives the envelope zeep's ``_create`` would for the same arguments: the
operation's empty envelope is zeep's own (made once), its elements are filled in schema order,
each value written by the zeep type's ``xmlvalue``, None and absent optional elements left out.
Arguments it does not take as they are (a key the schema does not know, a value of an unusual
type, a required element missing, a text lxml refuses) are None: zeep builds (or refuses) them.

``read`` gives exactly what ``serialize_object`` of zeep's own result would (dicts with every
element of a sequence, None for an absent one, lists for repeated ones, values converted by the
zeep type's ``pythonvalue``, ``UNREADABLE`` for one it cannot convert) for answers of the plain
shape 24SevenOffice sends: a SOAP 1.1 envelope without header, the operation's response element,
elements in schema order, no attributes, no xsi:nil, no DTD. Anything else (a fault, a header,
an attribute, an element out of order or unknown, mixed content, XML lxml refuses) is ``None``:
the caller hands the same bytes to zeep, which stays the reference and the fallback.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.xsd import ComplexType, Element
from zeep.xsd.elements.indicators import Sequence
from zeep.xsd.types.simple import AnySimpleType

from fjordsync_twentyfourseven.shared import UNREADABLE

SOAP_ENV = "{http://schemas.xmlsoap.org/soap/envelope/}"
_ENVELOPE, _BODY = f"{SOAP_ENV}Envelope", f"{SOAP_ENV}Body"
# As zeep's parse_xml (comments dropped, no entities resolved, large answers allowed), but
# never recovering: an answer lxml refuses goes to zeep, which reports it as it always has.
_PARSER = etree.XMLParser(
    remove_comments=True, resolve_entities=False, huge_tree=True, no_network=True
)


class _NotPlain(Exception):
    """The answer is not of the plain shape: zeep reads it."""


class _Simple:
    """A simple type, with the values of texts already read: an answer repeats the same ids,
    times and hours in record after record, and zeep's conversion (whitespace collapsed by a
    regex, then parsed) was most of what reading one cost. Only immutable values are kept, and
    only so many: unique texts (ids, notes) would just grow it."""

    __slots__ = ("known", "type")

    def __init__(self, xsd_type: AnySimpleType) -> None:
        self.type = xsd_type
        self.known: dict[str, Any] = {}

    def read(self, text: str) -> Any:
        value = self.known.get(text, _MISSING)
        if value is not _MISSING:
            return value
        try:
            value = self.type.pythonvalue(text)
        except (TypeError, ValueError, ArithmeticError):
            value = UNREADABLE
        if len(self.known) < _KNOWN_TEXTS and (value is UNREADABLE or type(value) in _IMMUTABLE):
            self.known[text] = value
        return value


_MISSING = object()
_KNOWN_TEXTS = 4096
_IMMUTABLE = frozenset({str, int, bool, float, Decimal, datetime, date, time})


class _Complex:
    """A complex type's children in schema order: (attribute name, tag, repeated, shape),
    and the names of the optional ones (minOccurs 0)."""

    __slots__ = ("children", "names", "optional")

    def __init__(self) -> None:
        self.children: list[tuple[str, str, bool, _Simple | _Complex]] = []
        self.names: frozenset[str] = frozenset()
        self.optional: frozenset[str] = frozenset()


# by the type's id, holding the type: an id is only unique while its object lives
_SHAPES: dict[int, tuple[Any, _Simple | _Complex]] = {}


def _shape(xsd_type: Any) -> _Simple | _Complex:
    """The shape of a zeep type, once per type; ``_NotPlain`` for what the fast path does not
    read (attributes, choices, any, extensions): those answers stay zeep's."""
    known = _SHAPES.get(id(xsd_type))
    if known is not None and known[0] is xsd_type:
        return known[1]
    if isinstance(xsd_type, AnySimpleType):
        shape: _Simple | _Complex = _Simple(xsd_type)
    elif isinstance(xsd_type, ComplexType):
        if xsd_type.attributes or not isinstance(xsd_type._element, Sequence | None):
            raise _NotPlain(xsd_type)
        if getattr(xsd_type, "_extension", None) is not None or getattr(
            xsd_type, "_array_type", None
        ):
            raise _NotPlain(xsd_type)
        shape = _Complex()
        _SHAPES[id(xsd_type)] = (xsd_type, shape)  # before the children: a type may hold itself
        try:
            for name, element in xsd_type.elements:
                if not isinstance(element, Element) or type(element) is not Element:
                    raise _NotPlain(element)
                shape.children.append(
                    (name, element.qname.text, element.max_occurs != 1, _shape(element.type))
                )
            shape.names = frozenset(name for name, *_ in shape.children)
            shape.optional = frozenset(
                name for name, element in xsd_type.elements if element.is_optional
            )
        except Exception:
            del _SHAPES[id(xsd_type)]
            raise
        return shape
    else:
        raise _NotPlain(xsd_type)
    _SHAPES[id(xsd_type)] = (xsd_type, shape)
    return shape


def _value(node: Any, shape: _Simple | _Complex) -> Any:
    if node.attrib:  # xsi:nil, xsi:type, anything zeep would look at
        raise _NotPlain(node.tag)
    if type(shape) is _Simple:
        if len(node):
            raise _NotPlain(node.tag)
        text = node.text
        return None if text is None else shape.read(text)
    assert isinstance(shape, _Complex)
    if node.text is not None and node.text.strip():
        raise _NotPlain(node.tag)
    nodes = list(node)
    if not nodes:
        return None  # zeep reads a complex element without children (or attributes) as None
    count, at = len(nodes), 0
    result: dict[str, Any] = {}
    for name, tag, repeated, child in shape.children:
        if repeated:
            items = []
            while at < count and nodes[at].tag == tag:
                items.append(_value(nodes[at], child))
                at += 1
            result[name] = items
        elif at < count and nodes[at].tag == tag:
            result[name] = _value(nodes[at], child)
            at += 1
        else:
            result[name] = None
    if at < count:  # out of order, unknown or a comment's leftovers: zeep decides
        raise _NotPlain(node.tag)
    return result


def output_shape(operation: Any) -> tuple[str, _Complex] | None:
    """The response element's tag and shape of a zeep binding operation whose answer the fast
    path reads (one body part holding one element), else None."""
    try:
        body = operation.output.body
        element = body if isinstance(body, Element) else None
        if element is None or not isinstance(element.type, ComplexType):
            return None
        shape = _shape(element.type)
    except (_NotPlain, AttributeError):
        return None
    if not isinstance(shape, _Complex) or len(shape.children) != 1:
        return None
    return element.qname.text, shape


def read(content: bytes, expected: tuple[str, _Complex]) -> tuple[bool, Any]:
    """(True, plain data) for an answer of the plain shape, else (False, None)."""
    tag, shape = expected
    try:
        root = etree.fromstring(content, parser=_PARSER)
        if root.tag != _ENVELOPE or root.getroottree().docinfo.doctype:
            return False, None
        parts = list(root)
        if len(parts) != 1 or parts[0].tag != _BODY or parts[0].attrib or len(parts[0]) != 1:
            return False, None
        answer = parts[0][0]
        if answer.tag != tag:  # a fault, or not this operation's answer
            return False, None
        result = _value(answer, shape)
    except (_NotPlain, etree.XMLSyntaxError, ValueError):
        return False, None
    # zeep returns the response's only part's value, not the wrapper, and of that value, when
    # it is of a complex type with one element (an ArrayOf...), that element's value.
    name, _, _, inner = shape.children[0]
    value = result[name]
    if isinstance(inner, _Complex) and len(inner.children) == 1 and isinstance(value, dict):
        return True, value[inner.children[0][0]]
    return True, value


# -- requests ------------------------------------------------------------------------------------
_PLAIN_VALUES = (str, int, Decimal)  # bool is an int; what the adapter sends


def _fill(parent: Any, shape: _Complex, value: Any) -> None:
    if not isinstance(value, dict) or not value.keys() <= shape.names:
        raise _NotPlain(parent.tag)  # zeep raises its TypeError for an unknown key
    for name, tag, repeated, child in shape.children:
        given = value.get(name)
        items = given if repeated and isinstance(given, list) else [given]
        for item in items:
            if item is None:
                if name not in shape.optional:
                    raise _NotPlain(tag)
                continue
            node = etree.SubElement(parent, tag)
            if type(child) is _Simple:
                if not isinstance(item, _PLAIN_VALUES):
                    raise _NotPlain(tag)
                node.text = child.type.xmlvalue(item)
            else:
                assert isinstance(child, _Complex)
                _fill(node, child, item)


class Request:
    """One operation's requests: zeep's empty envelope and HTTP headers, made once."""

    def __init__(self, binding: Any, operation: str, client: Any, options: Any) -> None:
        self.skeleton, self.headers = binding._create(
            operation, (), {}, client=client, options=options
        )
        body = binding.get(operation).input.body
        shape = _shape(body.type) if isinstance(body, Element) else None
        self._path = f"{_BODY}/{body.qname.text}"
        empty = self.skeleton.find(self._path)
        if not isinstance(shape, _Complex) or empty is None or len(empty):
            raise _NotPlain(operation)
        self._shape = shape

    @classmethod
    def of(cls, binding: Any, operation: str, client: Any, options: Any) -> Request | None:
        try:
            return cls(binding, operation, client, options)
        except (_NotPlain, AttributeError, ZeepError, TypeError, ValueError):
            return None  # e.g. a required element: zeep's _create refuses {} for it

    def build(self, args: dict[str, Any]) -> Any:
        """The envelope for ``args``, or None when zeep has to build it."""
        envelope = deepcopy(self.skeleton)
        try:
            _fill(envelope.find(self._path), self._shape, args)
        except (_NotPlain, ValueError, TypeError):
            return None
        return envelope
