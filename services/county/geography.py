"""Postcode -> hub area, from a county pack's ONSPD/NSPL rows and its hub-area table.

Each live postcode row gives the postcode's district (`laua`), ward (`osward`) and LSOA (`lsoa21`);
the narrowest hub-area rule that matches one of them decides (an LSOA rule before a ward rule
before a district rule), so a county can assign whole districts and carve out exceptions.
A postcode the pack does not list has no hub area: hubnet never guesses one from its outward code,
because a wrong hub area would show a family to staff who should not see it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from schemas.county import CountyPack, GeographyField, HubAreaRule, PostcodeRow
from services.referrals.postcodes import normalise

NARROWEST_FIRST = (GeographyField.LSOA21, GeographyField.OSWARD, GeographyField.LAUA)


@dataclass(frozen=True)
class HubAreaLookup:
    """Hub area id and priority-place flag of every postcode the county pack lists."""

    by_postcode: Mapping[str, HubAreaRule]

    def hub_area(self, postcode: str | None) -> str | None:
        """The hub area of a postcode, or None when the pack does not place it."""
        rule = self._rule(postcode)
        return rule.hub_area if rule else None

    def in_priority_place(self, postcode: str | None) -> bool:
        rule = self._rule(postcode)
        return bool(rule and rule.priority_place)

    def _rule(self, postcode: str | None) -> HubAreaRule | None:
        if not postcode or not postcode.strip():
            return None
        return self.by_postcode.get(normalise(postcode))


def hub_area_lookup(pack: CountyPack) -> HubAreaLookup:
    """The lookup of a checked pack; terminated postcodes (`doterm` set) are left out."""
    return HubAreaLookup({normalise(row.pcds): rule for row, rule in deciding_rules(pack)})


def deciding_rules(pack: CountyPack) -> Iterator[tuple[PostcodeRow, HubAreaRule]]:
    """Each live postcode row the pack places, with the narrowest rule that decides its hub area
    (the lookup above, and the synthetic county's homes inside a pack, both place by this)."""
    rules = {(rule.field, rule.code): rule for rule in pack.hub_areas}
    for row in pack.postcodes:
        if row.doterm:
            continue
        keys = ((f, getattr(row, f.value)) for f in NARROWEST_FIRST)
        rule = next((rules[key] for key in keys if key in rules), None)
        if rule:
            yield row, rule
