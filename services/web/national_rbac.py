"""NHS CIS2 national RBAC: the one role a person selected at sign-in, as claims the county's claim
map can match (`selected_role.role_code`, `selected_role.org_code`, `selected_role.activity_codes`,
any other field of the role).

Why only the selected role: CIS2 lists every role a person holds, in every organisation
(`nhsid_nrbac_roles` in the UserInfo response, scope `nationalrbacaccess`), and the person picks
the one they work in now (`selected_roleid`, in the ID token, scope `selectedrole`). Matching rules
against all of them would let a nurse role held at one trust combine with another organisation's
code, or a role the person did not choose today grant access. So the rules see the selected role's
fields and nothing of the others; a sign-in that names no selected role, or one the person does
not hold, is refused.

Field names as NHS England's CIS2 guidance gives them: each role has `person_roleid`, `org_code`
(the ODS code), `role_code` (the job role code, e.g. `R8001`, often sent as a colon-separated
`S…:G…:R…` path), `role_name`, and optionally `activity_codes`, `activities`, `aow_codes`,
`workgroups_codes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.county import SELECTED_ROLE as PREFIX

ROLES = "nhsid_nrbac_roles"
SELECTED = "selected_roleid"


class NoSelectedRoleError(Exception):
    """The sign-in names no role the person holds; the message is for the person."""


def selected_role_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """`claims` without the list of every role, plus the selected role's fields as
    `selected_role.<field>` (a role code also as each of its colon-separated parts)."""
    selected = claims.get(SELECTED)
    if not isinstance(selected, str) or not selected:
        raise NoSelectedRoleError(
            "Your organisation's sign-in did not say which of your roles you are working in. "
            "Sign in again and choose a role."
        )
    roles = claims.get(ROLES)
    chosen = next(
        (role for role in roles if isinstance(role, dict) and role.get("person_roleid") == selected),
        None,
    ) if isinstance(roles, list) else None  # fmt: skip
    if chosen is None:
        raise NoSelectedRoleError(
            "The role you selected is not among the roles your organisation's sign-in lists for you. "
            "Sign in again and choose a role; if this keeps happening, tell your Family Hub administrator."
        )
    flat = {key: value for key, value in claims.items() if key != ROLES and not key.startswith(PREFIX)}
    for field, value in chosen.items():
        flat[PREFIX + field] = _codes(value) if field == "role_code" else value
    return flat


def _codes(role_code: Any) -> list[str]:
    """`S8001:G8005:R8000` as itself and as each code in it, so a rule can name just `R8000`."""
    text = str(role_code)
    return [text, *(part for part in text.split(":") if part and part != text)]
