"""The hot operations' answers read straight into plain data, following the WSDL's types as
zeep parsed them (issue 12: zeep's generic parse was a fifth of a re-run's CPU).

``read`` gives exactly what ``serialize_object`` of zeep's own result would (dicts with every
element of a sequence, None for an absent one, lists for repeated ones, values converted by the
zeep type's ``pythonvalue``, ``UNREADABLE`` for one it cannot convert) for answers of the plain
shape 24SevenOffice sends: a SOAP 1.1 envelope without header, the operation's response element,
elements in schema order, no attributes, no xsi:nil, no DTD. Anything else (a fault, a header,
an attribute, an element out of order or unknown, mixed content, XML lxml refuses) is ``None``:
the caller hands the same bytes to zeep, which stays the reference and the fallback.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
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
    __slots__ = ("type",)

    def __init__(self, xsd_type: AnySimpleType) -> None:
        self.type = xsd_type


class _Complex:
    """A complex type's children in schema order: (attribute name, tag, repeated, shape)."""

    __slots__ = ("children",)

    def __init__(self) -> None:
        self.children: list[tuple[str, str, bool, _Simple | _Complex]] = []


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
        if getattr(xsd_type, "_extension", None) is not None:
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
        if text is None:
            return None
        try:
            return shape.type.pythonvalue(text)
        except (TypeError, ValueError, ArithmeticError):
            return UNREADABLE
    assert isinstance(shape, _Complex)
    if node.text is not None and node.text.strip():
        raise _NotPlain(node.tag)
    nodes = list(node)
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
    # zeep returns a response's only part's value, not the wrapper
    return True, result[shape.children[0][0]]
