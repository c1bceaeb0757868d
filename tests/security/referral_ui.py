"""A small world for the staff UI's referral workflow tests (real HTTP and browser): a Tendring
family on the timeline (a child and a carer, both with NHS numbers), a food-bank referral held for
the family's consent, staff of each kind, and an outbox that keeps what the UI queues (#20)."""

from __future__ import annotations

from pathlib import Path

from schemas.envelope import HubEvent
from schemas.linked import LinkedEvent
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from services.web import routes_consent
from services.web.app import create_app
from services.web.routes_referrals import install
from tests.unit.gateway.support import ListPublisher
from tests.unit.referrals.support import Harness, born_years_ago, nhs, referral
from tests.unit.timeline.events import feed, linked

PASSWORD = "correct horse battery"
CHARITY = ("essex-foodbank", "Essex Community Food Bank")
FAMILY, CHILD, CARER = "fam-5", "person-5", "carer-5"


class World:
    def __init__(self, folder: Path) -> None:
        self.timeline = TimelineStore.open(folder / "timeline.sqlite")
        self.audit = AuditStore.open(folder / "audit.sqlite")
        self.outbox = ListPublisher()
        self.hub = Harness()
        users = UserStore.open(folder / "users.sqlite")
        tendring = ["E07000076"]
        users.add("hv", PASSWORD, Role.HEALTH_VISITOR, tendring, services=["family-support"])
        users.add("harlow", PASSWORD, Role.HEALTH_VISITOR, ["E07000073"], services=["family-support"])
        users.add("school", PASSWORD, Role.SCHOOL_STAFF, tendring)
        users.add("food", PASSWORD, Role.VOLUNTARY_SECTOR_WORKER, tendring, services=["food-bank"])
        users.add("boss", PASSWORD, Role.HUB_MANAGER, tendring)
        self.app = create_app(self.timeline, users, AuditTrail(self.audit, self.outbox), b"s" * 32)
        install(self.app, self.hub.service)
        routes_consent.install(self.app, lambda: [CHARITY, ("nhs-hv", "Essex health visiting")])
        child = linked(CHILD, (FAMILY,), nhs=nhs(5), name=("Mia", "Jones"), birth=born_years_ago(6))
        carer = linked(CARER, (FAMILY,), record="c5", nhs=nhs(50), name=("Jade", "Jones"), birth="1990-02-01")
        feed(self.timeline, child, carer)
        self.hub.service.handle(referral("r1", "foodbank-referral", serial=5, family=FAMILY, age=6))
        self.referral_id = self.hub.store.find("source_record_id = 'r1'")[0].referral_id

    def deliver_consent(self) -> None:
        """What identity resolution and the referral worker do with the event the UI queued."""
        for message in self.outbox.on("fh.events"):
            event = HubEvent.from_bytes(message.value)
            self.hub.service.handle(LinkedEvent(event=event, person_id=CARER, family_ids=(FAMILY,)))
