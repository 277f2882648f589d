"""One 24SevenOffice ASMX web service, served from its WSDL.

The WSDL drives everything: requests are validated against the schema in its ``wsdl:types``
(a request that does not fit is refused with the fault a .NET ASMX service gives, "Instance
validation error"), read with zeep's deserializer for the SOAP 1.1 or 1.2 binding the envelope
uses, and answers are serialized by zeep in the schema's element order. Missing optional scalars
in answers take the WSDL's declared defaults, which are .NET's "unset" sentinels
(-2147483648, 0001-01-01T00:00:00), as the real service sends them.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from zeep import Client
from zeep.helpers import serialize_object
from zeep.xsd import ComplexType

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XSD = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
TNS = "http://24sevenOffice.com/webservices"
_ADDRESS = re.compile(r'(<soap1?2?:address location=")https?://[^/"]+(/[^"]*")')


class SoapFault(Exception):
    """A SOAP fault: ``client`` faults are the caller's fault, the others the server's;
    ``version_mismatch`` is the fault for an envelope of the other SOAP version."""

    def __init__(
        self, message: str, *, client: bool = False, version_mismatch: bool = False
    ) -> None:
        self.message = message
        self.client = client
        self.version_mismatch = version_mismatch
        super().__init__(message)


class UnsupportedMediaType(Exception):
    """A POST whose Content-Type is neither SOAP 1.1's nor SOAP 1.2's: no SOAP answer fits."""


# Content-Type -> the SOAP version ASMX reads the request as (the envelope must match it).
MEDIA_TYPES = {"text/xml": SOAP11, "application/soap+xml": SOAP12}


def soap_version(content_type: str) -> str:
    """The SOAP version a request's Content-Type announces; UnsupportedMediaType if none."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise UnsupportedMediaType(f"Request format is invalid: {content_type or '(none)'}.")
    return MEDIA_TYPES[media_type]


def soap12_action(content_type: str) -> str | None:
    """The ``action`` parameter of a SOAP 1.2 Content-Type (SOAP 1.2 has no SOAPAction)."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "action":
            return value.strip().strip('"')
    return None


@dataclass
class SoapCall:
    version: str  # SOAP11 or SOAP12 namespace
    operation: str
    arguments: dict[str, Any]


def _schema(wsdl_tree: etree._ElementTree, workdir: Path) -> etree.XMLSchema:
    """The WSDL's embedded schemas as one lxml XMLSchema (imports resolved to each other)."""
    schemas = wsdl_tree.findall(f"{{{WSDL}}}types/{{{XSD}}}schema")
    files = {}
    for index, schema in enumerate(schemas):
        files[schema.get("targetNamespace")] = workdir / f"schema{index}.xsd"
    for schema in schemas:
        copy = etree.fromstring(etree.tostring(schema))
        for imported in copy.findall(f"{{{XSD}}}import"):
            target = files.get(imported.get("namespace"))
            if target is not None:
                imported.set("schemaLocation", target.name)
        files[schema.get("targetNamespace")].write_bytes(etree.tostring(copy))
    return etree.XMLSchema(etree.parse(str(files[TNS])))


class SoapService:
    def __init__(self, wsdl_path: Path, service_name: str) -> None:
        self.wsdl_text = wsdl_path.read_text(encoding="utf-8")
        self.client = Client(str(wsdl_path))
        service = self.client.wsdl.services[service_name]
        self.bindings = {}
        for port in service.ports.values():
            version = SOAP12 if "12" in type(port.binding).__name__ else SOAP11
            self.bindings[version] = port.binding
        with tempfile.TemporaryDirectory() as workdir:
            self.schema = _schema(etree.parse(str(wsdl_path)), Path(workdir))

    @property
    def operations(self) -> list[str]:
        return list(self.bindings[SOAP11]._operations)

    def wsdl(self, base_url: str) -> str:
        """The WSDL with its ``soap:address`` pointing at ``base_url``."""
        return _ADDRESS.sub(lambda m: f"{m.group(1)}{base_url}{m.group(2)}", self.wsdl_text)

    def read(self, body: bytes, version: str, soap_action: str | None) -> SoapCall:
        """The call in ``body``, read as ASMX reads it: the envelope must be of the ``version``
        the Content-Type announced (else a VersionMismatch fault), the operation is the one the
        SOAPAction names (SOAP 1.1: the header, required; SOAP 1.2: the Content-Type's
        ``action``, or the body's element when there is none), and the body's element must be
        that operation's."""
        try:
            envelope = etree.fromstring(body)
        except etree.XMLSyntaxError as exc:
            raise SoapFault(f"Server was unable to read request. ---> {exc}", client=True) from None
        namespace = etree.QName(envelope).namespace
        if namespace != version:
            raise SoapFault(
                f"Possible SOAP version mismatch: Envelope namespace {namespace} was "
                f"unexpected. Expecting {version}.",
                version_mismatch=True,
            )
        if etree.QName(envelope).localname != "Envelope":
            raise SoapFault(
                "Server was unable to read request. ---> the root element is not an Envelope",
                client=True,
            )
        operations = self.bindings[version]._operations
        by_action = {op.soapaction: name for name, op in operations.items()}
        body_element = envelope.find(f"{{{version}}}Body")
        payload = body_element[0] if body_element is not None and len(body_element) else None
        if version == SOAP11 and soap_action is None:
            raise SoapFault(
                "Unable to handle request without a valid action parameter. Please supply a "
                "valid soap action.",
                client=True,
            )
        if soap_action is not None:
            action = soap_action.strip().strip('"')
            if action not in by_action:
                raise SoapFault(
                    f"Server did not recognize the value of HTTP Header SOAPAction: {action}.",
                    client=True,
                )
            operation = by_action[action]
        elif payload is not None and etree.QName(payload).localname in operations:
            operation = etree.QName(payload).localname
        else:
            element = etree.QName(payload).localname if payload is not None else ""
            raise SoapFault(
                f"Server did not recognize the value of HTTP Header SOAPAction: {element}.",
                client=True,
            )
        if payload is None:
            raise SoapFault(
                "Server was unable to read request. ---> the Body is empty", client=True
            )
        if payload.tag != f"{{{TNS}}}{operation}":
            qname = etree.QName(payload)
            raise SoapFault(
                "System.Web.Services.Protocols.SoapException: Server was unable to read "
                "request. ---> System.InvalidOperationException: There is an error in XML "
                f"document ({payload.sourceline}, 1). ---> System.InvalidOperationException: "
                f"<{qname.localname} xmlns='{qname.namespace or ''}'> was not expected.",
                client=True,
            )
        if not self.schema.validate(etree.ElementTree(payload)):
            error = self.schema.error_log.last_error
            assert error is not None  # a document that fails validation has logged why
            raise SoapFault(
                "System.Web.Services.Protocols.SoapException: Server was unable to read "
                f"request. ---> System.InvalidOperationException: There is an error in XML "
                f"document ({error.line}, {error.column}). ---> "
                f"System.InvalidOperationException: Instance validation error: {error.message}",
                client=True,
            )
        soap_operation = operations[operation]
        message = soap_operation.input.deserialize(envelope)
        value = serialize_object(message.body if hasattr(message, "body") else message, dict)
        # zeep unwraps an input of one part: always hand on {part name: value}.
        names = [name for name, _ in soap_operation.input.body.type.elements]
        if len(names) == 1 and not (isinstance(value, dict) and set(value) == {names[0]}):
            value = {names[0]: value}
        return SoapCall(version, operation, dict(value or {}))

    def answer(self, call: SoapCall, result: Any) -> bytes:
        """The answer envelope. A character XML 1.0 forbids in a stored text goes out as a
        character reference (``&#x1;``), as .NET's XmlSerializer writes it: lxml would refuse
        it, so it is parked as a private-use placeholder and put back after serializing."""
        operation = self.bindings[call.version]._operations[call.operation]
        names = [name for name, _ in operation.output.body.type.elements]
        values = {names[0]: _park(result)} if names else {}
        envelope = operation.output.serialize(**values).content
        body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        return _PARKED.sub(lambda m: b"&#x" + m.group(1) + b";", body)

    def fault(self, version: str, fault: SoapFault) -> bytes:
        if version == SOAP12:
            code = "soap:Sender" if fault.client else "soap:Receiver"
            if fault.version_mismatch:
                code = "soap:VersionMismatch"
            body = (
                f"<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code>"
                f'<soap:Reason><soap:Text xml:lang="en">{_escape(fault.message)}'
                "</soap:Text></soap:Reason><soap:Detail /></soap:Fault>"
            )
        else:
            code = "soap:Client" if fault.client else "soap:Server"
            if fault.version_mismatch:
                code = "soap:VersionMismatch"
            body = (
                f"<soap:Fault><faultcode>{code}</faultcode>"
                f"<faultstring>{_escape(fault.message)}</faultstring><detail /></soap:Fault>"
            )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{version}">'
            f"<soap:Body>{body}</soap:Body></soap:Envelope>"
        ).encode()

    def complete(self, type_name: str, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` with each missing optional scalar at the WSDL's default (the sentinel)."""
        xsd_type = self.client.get_type(f"{{{TNS}}}{type_name}")
        result = dict(record)
        if isinstance(xsd_type, ComplexType):
            for name, element in xsd_type.elements:
                default = getattr(element, "default", None)
                if name not in result and default is not None and default != "":
                    result[name] = default
        return result

    def given(self, type_name: str, record: dict[str, Any] | None) -> dict[str, Any]:
        """The fields of ``record`` (a search) that are set: a field at the WSDL's declared
        default is "not given", as .NET sees it (its deserializer cannot tell the default sent
        from the default left out), so e.g. ``PersonSearchParameters.Id = 0`` filters nothing."""
        xsd_type = self.client.get_type(f"{{{TNS}}}{type_name}")
        result = {}
        for name, element in xsd_type.elements:
            value = (record or {}).get(name)
            if value is None:
                continue
            default = getattr(element, "default", None)
            if default is not None and value == element.type.pythonvalue(default):
                continue
            result[name] = value
        return result


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PARKED = re.compile("\ue000([0-9A-F]+)\ue001".encode())


def _park(value: Any) -> Any:
    if isinstance(value, str):
        return _NOT_XML.sub(lambda m: f"\ue000{ord(m.group(0)):X}\ue001", value)
    if isinstance(value, dict):
        return {k: _park(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_park(v) for v in value]
    return value


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
