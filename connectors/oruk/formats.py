"""The HSDS 3.0 formats ORUK's validator checks, as warnings on an accepted record.

The ORUK validator's "extended checks" ("if the property is a string, does it conform to the string
format specified?", https://developers.openreferraluk.org/ApiValidation/) give warnings, not
failures: the service is still worth routing to. hubnet does the same: a value that breaks its
format is left out of the catalogue and of the FHIR resources (an e-mail that bounces or a link
that goes nowhere must not reach a family), the record is kept, and a warning names the field.

Formats, from the HSDS 3.0 schema (openreferral/specification `schema/*.json`):
- `format: email` (service and organization `email`): an addr-spec, `name@domain.tld`;
- `format: uri` (service `url`, organization `website`, taxonomy `uri`, taxonomy_term `term_uri`):
  an absolute URI; hubnet asks for http or https with a host, as these are links people follow.
A taxonomy term must have a `description` (HSDS 3.0 `taxonomy_term.required`), and is only
comparable across directories when it, or its taxonomy, gives a URI.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from connectors.oruk.nodes import Node

Warnings = list[tuple[str, str]]
"""(location, reason) pairs, as `catalogue.Parts.warnings` holds them."""

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def email(node: Node, key: str, warnings: Warnings) -> str | None:
    """The field when it is an e-mail address; else None, with a warning."""
    value = node.text(key)
    if value is None or _EMAIL.match(value):
        return value
    warnings.append((node.at(key), "not an e-mail address (name@domain.tld); left out"))
    return None


def link(node: Node, warnings: Warnings, *keys: str) -> str | None:
    """The first of `keys` that has a value, when it is an absolute http(s) URL; else None, with a
    warning naming the field."""
    for key in keys:
        value = node.text(key)
        if value is None:
            continue
        if is_link(value):
            return value
        warnings.append((node.at(key), "not an absolute http(s) URL (https://...); left out"))
        return None
    return None


def is_link(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not re.search(r"\s", value)


def check_term(node: Node, warnings: Warnings, taxonomy_uri: str | None = None) -> None:
    """Warnings for a taxonomy term the HSDS 3.0 schema or the ORUK validator would flag."""
    if node.text("description") is None:
        warnings.append(
            (node.at("description"), "the taxonomy term has no description (HSDS 3.0 requires it)")
        )
    link(node, warnings, "term_uri")
    detail = node.child("taxonomy_detail")
    detail_uri = link(detail, warnings, "uri") if detail is not None else None
    if node.text("term_uri") is None and (taxonomy_uri or detail_uri) is None:
        warnings.append(
            (
                node.at("term_uri"),
                "the taxonomy term has no URI, nor a taxonomy that gives one: other directories "
                "cannot tell which term it is",
            )
        )
