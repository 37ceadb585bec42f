"""A test identity provider: a key pair and self-signed certificate made for the run, and
SAML Responses built from a real IdP's response (fixtures/saml/README.md) with the
fields a test controls rewritten, the assertion signed by that key."""

from __future__ import annotations

import base64
import copy
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

RECORDED = Path(__file__).parent / "fixtures" / "saml" / "python3-saml_valid_unsigned_response.xml"
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
}
IDP_ENTITY_ID = "https://idp.example.com/saml2/metadata"
IDP_SSO_URL = "https://idp.example.com/saml2/sso"
# python3-saml refuses single-label hosts such as Django's "testserver" in its URLs.
HOST = "vouch.example.com"
ACS_URL = f"http://{HOST}/accounts/saml/company/acs/"
SP_ENTITY_ID = f"http://{HOST}/accounts/saml/company/metadata/"
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
MFA_CONTEXT = "https://refeds.org/profile/mfa"


@dataclass(frozen=True)
class KeyPair:
    key_pem: str
    cert_pem: str


@cache
def idp_keys(name: str = "Test IdP") -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(tz=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return KeyPair(
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
    )


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Assertion:
    """What the IdP asserts; ``response()`` gives the POST body's SAMLResponse."""

    email: str
    in_response_to: str
    groups: list[str] = field(default_factory=list)
    authn_context: str = PASSWORD_CONTEXT
    first_name: str = "Sam"
    last_name: str = "Staff"
    audience: str = SP_ENTITY_ID
    acs_url: str = ACS_URL
    issued: datetime | None = None
    lifetime: timedelta = timedelta(minutes=5)
    assertion_id: str = field(default_factory=lambda: f"_a{uuid.uuid4().hex}")
    signed: bool = True
    keys: KeyPair | None = None

    def xml(self) -> bytes:
        issued = self.issued or datetime.now(tz=UTC).replace(microsecond=0)
        expires = issued + self.lifetime
        root = copy.deepcopy(etree.parse(str(RECORDED)).getroot())
        root.set("ID", f"_r{uuid.uuid4().hex}")
        root.set("IssueInstant", _time(issued))
        root.set("Destination", self.acs_url)
        root.set("InResponseTo", self.in_response_to)
        for issuer in root.iterfind(".//saml:Issuer", NS):
            issuer.text = IDP_ENTITY_ID
        assertion = root.find("saml:Assertion", NS)
        assertion.set("ID", self.assertion_id)
        assertion.set("IssueInstant", _time(issued))
        name_id = assertion.find("saml:Subject/saml:NameID", NS)
        name_id.text = self.email
        name_id.set("SPNameQualifier", self.audience)
        confirmation = assertion.find(".//saml:SubjectConfirmationData", NS)
        confirmation.set("NotOnOrAfter", _time(expires))
        confirmation.set("Recipient", self.acs_url)
        confirmation.set("InResponseTo", self.in_response_to)
        conditions = assertion.find("saml:Conditions", NS)
        conditions.set("NotBefore", _time(issued - timedelta(seconds=30)))
        conditions.set("NotOnOrAfter", _time(expires))
        conditions.find(".//saml:Audience", NS).text = self.audience
        statement = assertion.find("saml:AuthnStatement", NS)
        statement.set("AuthnInstant", _time(issued))
        statement.set("SessionNotOnOrAfter", _time(issued + timedelta(hours=8)))
        statement.find(".//saml:AuthnContextClassRef", NS).text = self.authn_context
        attributes = assertion.find("saml:AttributeStatement", NS)
        template = attributes.find("saml:Attribute", NS)
        for old in list(attributes):
            attributes.remove(old)
        for name, values in (
            ("email", [self.email]),
            ("firstName", [self.first_name]),
            ("lastName", [self.last_name]),
            ("groups", self.groups),
        ):
            if not values:
                continue
            attribute = copy.deepcopy(template)
            attribute.set("Name", name)
            value_template = attribute.find("saml:AttributeValue", NS)
            for old in list(attribute):
                attribute.remove(old)
            for value in values:
                element = copy.deepcopy(value_template)
                element.text = value
                attribute.append(element)
            attributes.append(attribute)
        if self.signed:
            keys = self.keys or idp_keys()
            signed = OneLogin_Saml2_Utils.add_sign(
                etree.tostring(assertion), keys.key_pem, keys.cert_pem
            )
            root.replace(assertion, etree.fromstring(signed))
        return etree.tostring(root)

    def response(self) -> str:
        return base64.b64encode(self.xml()).decode()


def configure(
    settings, *, manager_groups: list[str], rep_groups: list[str], **advanced: object
) -> None:
    """Staff SSO through this IdP, as VOUCH_SSO_SAML_* make it (config/settings/)."""
    settings.VOUCH_SSO_SAML_IDP_ENTITY_ID = IDP_ENTITY_ID
    settings.VOUCH_SSO_MANAGER_GROUPS = manager_groups
    settings.VOUCH_SSO_REP_GROUPS = rep_groups
    providers = copy.deepcopy(settings.SOCIALACCOUNT_PROVIDERS)
    providers["saml"]["APPS"] = [
        {
            "name": "your company account",
            "client_id": "company",
            "settings": {
                "idp": {
                    "entity_id": IDP_ENTITY_ID,
                    "sso_url": IDP_SSO_URL,
                    "x509cert": idp_keys().cert_pem,
                },
                "attribute_mapping": {
                    "uid": [],
                    "email": ["email"],
                    "first_name": ["firstName"],
                    "last_name": ["lastName"],
                },
                "advanced": {
                    "strict": True,
                    "want_assertion_signed": True,
                    "reject_idp_initiated_sso": True,
                    **advanced,
                },
            },
        }
    ]
    settings.SOCIALACCOUNT_PROVIDERS = providers
