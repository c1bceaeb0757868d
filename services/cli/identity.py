"""`hubnet identity`: the possible-match review queue, unmerge and a person's history (`score`, which
drives the synthetic county generator's replay, lives in services/cli/identity_score.py).

Reviews, splits and a person's identity history act as a named hub staff account (`--by`,
services/cli/acting.py) under the rule the web UI applies (services/identity/reviewers.py): hub
managers and hub practitioners, for records they may open on the timeline. The list shows only
reviews whose two records the account may open; a decision outside them is refused with the
reason. Every attempt is audited.
"""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table

from services.cli.acting import Acting, acting_as
from services.cli.runtime import friendly_errors, start
from services.cli.tables import table_console
from services.core.settings import Settings
from services.identity import decisions
from services.identity.reviewers import NOT_A_HISTORY_READER, review_persons, review_refusal
from services.identity.service import IdentityService
from services.identity.store import IdentityStore

app = typer.Typer(help="Identity resolution: review possible matches, unmerge, score.", no_args_is_help=True)
review = typer.Typer(help="Possible matches waiting for a person to decide.", no_args_is_help=True)
app.add_typer(review, name="review")
out = table_console()
ByOpt = Annotated[
    str,
    typer.Option(
        "--by",
        help="The hub staff account acting (`hubnet users add`): a hub manager or hub practitioner who "
        "may open the records; audited.",
    ),
]
ReasonOpt = Annotated[str, typer.Option(help="Why (kept on the audit trail).")]


def _service(settings: Settings) -> IdentityService:
    return IdentityService(IdentityStore.from_settings(settings))


def _may_decide(acting: Acting, service: IdentityService, action: str, review_id: str) -> None:
    """Refuse (audited) unless the account may open both records of the review; an unknown id is
    left to the decision itself to report, after the role check (as on the web)."""
    found = next((r for r in service.store.reviews(None) if r["review_id"] == review_id), None)
    persons = review_persons(found) if found else ()
    acting.check(action, review_id, review_refusal(acting.access, acting.who, persons))


@review.command("list")
@friendly_errors
def review_list(
    by: ByOpt,
    all_: Annotated[bool, typer.Option("--all", help="Include decided ones.")] = False,
) -> None:
    """Open possible matches whose two records you may open: the record's identifier, the two hub
    persons and the score per field."""
    settings = start()
    service = _service(settings)
    with acting_as(settings, by, "identity.reviews.list", None) as acting:
        acting.check("identity.reviews.list", None, review_refusal(acting.access, acting.who, ()))
        found = service.store.reviews(None if all_ else "open")
        items = [r for r in found if review_refusal(acting.access, acting.who, review_persons(r)) is None]
    table = Table("review", "record", "new person", "candidate", "score", "state")
    for item in items:
        score = item["score"]
        fields = ", ".join(f"{k} {v[0]}" for k, v in score.items() if k != "total")
        record = item["token"].rsplit("/", 1)[-1]
        total = f"{score['total']} ({fields})"
        table.add_row(
            item["review_id"], record, item["person_id"], item["candidate_id"], total, item["status"]
        )
    out.print(table)
    out.print(f"{len(items)} review(s) whose two records you may open")


@review.command("confirm")
@friendly_errors
def review_confirm(review_id: str, by: ByOpt, reason: ReasonOpt = "confirmed") -> None:
    """They are one person: merge (the worker publishes the merge on fh.linked)."""
    settings = start()
    service = _service(settings)
    with acting_as(settings, by, "identity.review.confirm", review_id) as acting:
        _may_decide(acting, service, "identity.review.confirm", review_id)
        merge = decisions.confirm(service, review_id, acting.who.username, reason)
    out.print(f"merged {merge.absorbed} into {merge.kept}" if merge else "already one person")


@review.command("reject")
@friendly_errors
def review_reject(review_id: str, by: ByOpt, reason: ReasonOpt = "rejected") -> None:
    """They are different people: never linked automatically, now or on replay."""
    settings = start()
    service = _service(settings)
    with acting_as(settings, by, "identity.review.reject", review_id) as acting:
        _may_decide(acting, service, "identity.review.reject", review_id)
        decisions.reject(service, review_id, acting.who.username, reason)
    out.print("kept apart")


@app.command("split")
@friendly_errors
def split(
    person_id: str,
    tokens: Annotated[list[str], typer.Argument(help="Identifiers (system|value) to move to a new person.")],
    by: ByOpt,
    reason: ReasonOpt = "wrong link",
) -> None:
    """Unmerge: move the records stated by these identifiers to a new hub person."""
    settings = start()
    service = _service(settings)
    with acting_as(settings, by, "identity.split", person_id) as acting:
        person = service.store.canonical(person_id)
        acting.check("identity.split", person_id, review_refusal(acting.access, acting.who, (person,)))
        unmerge = decisions.split(service, person_id, tokens, acting.who.username, reason)
    out.print(f"moved to new person {unmerge.absorbed}")


@app.command("show")
@friendly_errors
def show(person_id: str, by: ByOpt) -> None:
    """A hub person's identifiers, families and audit trail (who or what decided, and why): for
    reviewers who may open the person, as a review of it would be."""
    settings = start()
    store = _service(settings).store
    person_id = store.canonical(person_id)
    with acting_as(settings, by, "identity.show", person_id) as acting:
        refusal = review_refusal(acting.access, acting.who, (person_id,), NOT_A_HISTORY_READER)
        acting.check("identity.show", person_id, refusal)
    out.print(f"[bold]person[/] {person_id}")
    for token, verified in store.tokens_of(person_id):
        out.print(f"  identifier {token}{' (verified)' if verified else ''}", highlight=False)
    for family_id, role in store.memberships(person_id):
        out.print(f"  family {family_id} as {role}")
    for entry in store.history(person_id):
        detail = orjson.dumps(entry["detail"]).decode() if entry["detail"] else ""
        out.print(f"  {entry['at'][:19]} {entry['action']} by {entry['by']}: {entry['reason']} {detail}")
