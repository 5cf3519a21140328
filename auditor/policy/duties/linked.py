"""Duties that link a use to other records: a public post before a footage request (Ring), and
human review by distinct people (Washington RCW 43.386, EU AI Act 14(5))."""

from __future__ import annotations

from auditor.core.models import Event, OperationKind
from auditor.policy.duties.base import OK, DutyType, EventIndex, Outcome, links, norm
from auditor.policy.pack import Duty


def _public_post(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    posts = [
        p for p in index.linked(event, duty.link, OperationKind.PUBLIC_POST) if p.time <= event.time
    ]
    if posts:
        return OK
    return Outcome(False, f"no public post linked by {links(duty)} precedes the request")


def _human_review(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    people = {
        norm(r) for r in (event.attr("reviewers") or "").replace(";", ",").split(",") if r.strip()
    }
    latest = duty.deadline.after(event.time) if duty.deadline else None
    reviews = [
        r
        for r in index.linked(event, duty.link, OperationKind.HUMAN_REVIEW)
        if latest is None or r.time <= latest
    ]
    people |= {norm(r.attr("reviewer") or r.principal.id) for r in reviews}
    if len(people) >= duty.min_reviewers:
        return OK
    return Outcome(
        False, f"{len(people)} distinct reviewer(s), {duty.min_reviewers} required", tuple(reviews)
    )


class PublicPost(DutyType):
    name = "public_post"
    params = {"link": ("public_post_id", "case_ref")}
    linked = OperationKind.PUBLIC_POST
    doc = "a linked `public_post` record (Ring `PublicPost`) precedes the request"

    def check(self, event: Event, duty: Duty, index: EventIndex) -> Outcome:
        return _public_post(event, duty, index)

    def describe(self, duty: Duty) -> list[str]:
        return ["link " + ", ".join(duty.link)]


class HumanReview(DutyType):
    name = "human_review"
    params = {"min_reviewers": 1, "deadline": None, "link": ("reviewed_event:event_id",)}
    linked = OperationKind.HUMAN_REVIEW
    doc = (
        "at least `min_reviewers` distinct people reviewed: names in the event's `reviewers` "
        "field (comma or semicolon separated) plus linked `human_review` records (service "
        "`review`, `HumanReview`; the reviewer is their `reviewer` field or principal) within "
        "`deadline`"
    )

    def check(self, event: Event, duty: Duty, index: EventIndex) -> Outcome:
        return _human_review(event, duty, index)

    def describe(self, duty: Duty) -> list[str]:
        out = [f"deadline {duty.deadline.text}"] if duty.deadline else []
        return [*out, f"min_reviewers {duty.min_reviewers}", "link " + ", ".join(duty.link)]
