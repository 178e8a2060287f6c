"""The intake workflow: every transition, every refusal, separation of duties, and the
published version's effect on the next decision."""

import pytest
from django.core import mail

from audit.models import AuditEvent
from catalog.models import CatalogItem, IntakeRequest
from catalog.tests.conftest import DATA, DIGEST, SECURITY, approve
from catalog.workflow import (
    TRANSITIONS,
    intake_request_publish,
    intake_request_reject,
    intake_request_resubmit,
    intake_request_start_review,
    intake_request_submit,
    intake_request_withdraw,
    intake_review_add,
)
from governance.exceptions import Conflict, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def state(intake) -> str:
    return IntakeRequest.objects.get(pk=intake.pk).state


def test_filing_a_request_is_audited(version_request):
    assert version_request.state == "submitted"
    event = AuditEvent.objects.get(event_type="intake_state_changed")
    assert event.actor == "user:sam@corp.example"
    assert event.changes == {"before": None, "after": {"state": "submitted"}}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"artifact_digest": "md5:abc"}, "artifact_digest"),
        ({"version": "2.1.0"}, "version"),  # exists already
        ({"data_classes": ["secret"]}, "data_classes"),
        ({"justification": ""}, "justification"),
    ],
)
def test_bad_requests_are_refused_by_field(outreach_owned, requester, overrides, field):
    fields = dict(
        version="2.2.0", artifact_digest=DIGEST, vendor="x", justification="y", reach="read"
    )
    fields.update(overrides)
    with pytest.raises(ValidationFailed) as error:
        intake_request_submit(actor=requester, item=outreach_owned, **fields)
    assert field in error.value.extra["fields"]


def test_a_new_item_needs_a_free_slug(requester, policy):
    with pytest.raises(ValidationFailed, match="already a catalog item"):
        intake_request_submit(
            actor=requester, slug="crm", name="CRM", item_kind="connector", version="1.0.0",
            artifact_digest=DIGEST, vendor="x", justification="y",
        )  # fmt: skip


def test_two_approving_reviews_by_two_people_approve_it(
    version_request, security_reviewer, connector_owner
):
    intake = approve(version_request, security=security_reviewer, data=connector_owner)
    assert intake.state == "approved"


def test_one_person_cannot_give_both_reviews(version_request, connector_owner):
    intake_review_add(
        version_request,
        actor=connector_owner,
        kind="security",
        verdict="approve",
        checklist=sorted(SECURITY),
    )
    with pytest.raises(Conflict) as error:
        intake_review_add(
            version_request,
            actor=connector_owner,
            kind="data",
            verdict="approve",
            checklist=sorted(DATA),
        )
    assert error.value.code == "same_reviewer"
    assert state(version_request) == "in_review"


def test_the_requester_cannot_review_their_own_request(version_request, requester, policy):
    from django.contrib.auth.models import Group

    requester.groups.add(Group.objects.get(name="CRM owners"))
    with pytest.raises(PermissionDenied) as error:
        intake_review_add(
            version_request, actor=requester, kind="data", verdict="approve", checklist=sorted(DATA)
        )
    assert error.value.code == "own_request"


def test_a_version_is_reviewed_by_the_items_owners_not_by_others(version_request, other_owner):
    with pytest.raises(PermissionDenied):
        intake_review_add(
            version_request,
            actor=other_owner,
            kind="data",
            verdict="approve",
            checklist=sorted(DATA),
        )


def test_the_security_team_may_give_only_the_security_review(version_request, security_reviewer):
    with pytest.raises(PermissionDenied):
        intake_review_add(
            version_request,
            actor=security_reviewer,
            kind="data",
            verdict="approve",
            checklist=sorted(DATA),
        )
    intake_review_add(
        version_request,
        actor=security_reviewer,
        kind="security",
        verdict="approve",
        checklist=sorted(SECURITY),
    )


def test_a_new_item_is_reviewed_by_governance_admins(
    new_item_request, connector_owner, governance_admin, security_reviewer
):
    with pytest.raises(PermissionDenied):
        intake_review_add(
            new_item_request,
            actor=connector_owner,
            kind="data",
            verdict="approve",
            checklist=sorted(DATA),
        )
    intake = approve(new_item_request, security=security_reviewer, data=governance_admin)
    assert intake.state == "approved"


def test_each_review_kind_is_given_once_per_round(
    version_request, security_reviewer, connector_owner
):
    intake_review_add(
        version_request,
        actor=security_reviewer,
        kind="security",
        verdict="approve",
        checklist=sorted(SECURITY),
    )
    with pytest.raises(Conflict) as error:
        intake_review_add(
            version_request,
            actor=connector_owner,
            kind="security",
            verdict="approve",
            checklist=sorted(SECURITY),
        )
    assert error.value.code == "already_reviewed"


def test_approving_needs_every_checklist_item(version_request, connector_owner):
    with pytest.raises(ValidationFailed, match="Tick every"):
        intake_review_add(
            version_request,
            actor=connector_owner,
            kind="data",
            verdict="approve",
            checklist=["pii_justified"],
        )


def test_unknown_checklist_items_are_refused(version_request, connector_owner):
    with pytest.raises(ValidationFailed, match="Unknown checklist"):
        intake_review_add(
            version_request,
            actor=connector_owner,
            kind="data",
            verdict="approve",
            checklist=["nope"],
        )


def test_changes_requested_go_back_and_a_resubmission_starts_a_new_round(
    version_request, connector_owner, security_reviewer, requester
):
    with pytest.raises(ValidationFailed):
        intake_review_add(
            version_request, actor=connector_owner, kind="data", verdict="request_changes"
        )
    intake_review_add(
        version_request,
        actor=connector_owner,
        kind="data",
        verdict="request_changes",
        comment="List the systems",
    )
    assert state(version_request) == "changes_requested"
    intake = intake_request_resubmit(
        IntakeRequest.objects.get(pk=version_request.pk),
        actor=requester,
        systems=["Salesforce", "Gmail"],
    )
    assert (intake.state, intake.round) == ("submitted", 2)
    # The new round needs both reviews again; the first round's do not count.
    approve(intake, security=security_reviewer, data=connector_owner)
    assert state(intake) == "approved"


def test_a_rejecting_review_rejects_the_request(version_request, connector_owner):
    intake_review_add(
        version_request, actor=connector_owner, kind="data", verdict="reject", comment="Not needed"
    )
    assert state(version_request) == "rejected"


def test_a_reviewer_may_reject_outright_with_a_reason(version_request, connector_owner, requester):
    with pytest.raises(ValidationFailed):
        intake_request_reject(version_request, actor=connector_owner, reason="")
    with pytest.raises(PermissionDenied):
        intake_request_reject(version_request, actor=requester, reason="no")
    intake_request_reject(version_request, actor=connector_owner, reason="Duplicate of 2.1")
    assert state(version_request) == "rejected"


def test_only_the_requester_withdraws(version_request, connector_owner, requester):
    with pytest.raises(PermissionDenied):
        intake_request_withdraw(version_request, actor=connector_owner)
    intake_request_withdraw(version_request, actor=requester, reason="Not needed after all")
    assert state(version_request) == "withdrawn"


ILLEGAL = [
    ("withdraw", "rejected"),
    ("withdraw", "published"),
    ("resubmit", "submitted"),
    ("reject", "approved"),
    ("start_review", "in_review"),
    ("publish", "submitted"),
    ("publish", "changes_requested"),
]


@pytest.mark.parametrize(("transition", "from_state"), ILLEGAL)
def test_illegal_transitions_are_refused_with_a_clear_message(
    version_request, transition, from_state
):
    from catalog.workflow import _transition

    IntakeRequest.objects.filter(pk=version_request.pk).update(state=from_state)
    intake = IntakeRequest.objects.get(pk=version_request.pk)
    assert from_state not in TRANSITIONS[transition][0]
    with pytest.raises(Conflict, match="You cannot") as error:
        _transition(intake, transition, actor=None)
    assert error.value.code == "illegal_transition"


def test_a_closed_request_takes_no_reviews(version_request, requester, connector_owner):
    intake_request_withdraw(version_request, actor=requester)
    with pytest.raises(Conflict, match="withdrawn"):
        intake_review_add(
            IntakeRequest.objects.get(pk=version_request.pk),
            actor=connector_owner,
            kind="data",
            verdict="approve",
            checklist=sorted(DATA),
        )


def test_starting_a_review_needs_a_reviewer(version_request, outsider, connector_owner):
    with pytest.raises(PermissionDenied):
        intake_request_start_review(version_request, actor=outsider)
    assert intake_request_start_review(version_request, actor=connector_owner).state == "in_review"


def test_owner_publishes_and_pins_a_new_version_and_the_next_decision_uses_it(
    version_request, security_reviewer, connector_owner, decide
):
    intake = approve(version_request, security=security_reviewer, data=connector_owner)
    version = intake_request_publish(intake, actor=connector_owner)
    assert (version.version, version.is_pinned, version.review_state) == ("2.2.0", True, "approved")
    assert state(intake) == "published"
    assert decide(plugin="outreach@2.2.0").json()["outcome"] == "allow"
    assert decide(plugin="outreach@2.1.0").json()["reason"] == "version_not_pinned"
    types = set(AuditEvent.objects.values_list("event_type", flat=True))
    assert {"config_created", "catalog_version_pinned", "intake_state_changed"} <= types


def test_publishing_a_new_item_creates_it_approved_with_its_owner(
    new_item_request, security_reviewer, governance_admin, requester
):
    intake = approve(new_item_request, security=security_reviewer, data=governance_admin)
    intake_request_publish(intake, actor=governance_admin, pin=True)
    item = CatalogItem.objects.get(slug="meeting-notes")
    assert (item.status, item.owner, item.pinned_version.version) == (
        "approved",
        requester,
        "1.0.0",
    )


def test_only_owners_publish_versions_and_only_admins_publish_new_items(
    version_request,
    new_item_request,
    security_reviewer,
    connector_owner,
    governance_admin,
    requester,
):
    approve(version_request, security=security_reviewer, data=connector_owner)
    with pytest.raises(PermissionDenied):
        intake_request_publish(version_request, actor=requester)
    approve(new_item_request, security=security_reviewer, data=governance_admin)
    with pytest.raises(PermissionDenied):
        intake_request_publish(new_item_request, actor=connector_owner)


def test_publishing_without_pinning_leaves_the_old_pin(
    version_request, security_reviewer, connector_owner, decide
):
    intake = approve(version_request, security=security_reviewer, data=connector_owner)
    intake_request_publish(intake, actor=connector_owner, pin=False)
    assert decide(plugin="outreach@2.1.0").json()["outcome"] == "allow"


def test_emails_go_to_reviewers_on_filing_and_to_the_requester_on_each_change(
    outreach_owned,
    requester,
    connector_owner,
    security_reviewer,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        intake = intake_request_submit(
            actor=requester, item=outreach_owned, version="2.2.0", artifact_digest=DIGEST,
            vendor="Internal", justification="Calendar",
        )  # fmt: skip
    to_reviewers = sorted(m.to[0] for m in mail.outbox)
    assert "owen@corp.example" in to_reviewers and "sasha@corp.example" in to_reviewers
    assert "sam@corp.example" not in to_reviewers
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        intake_review_add(
            intake,
            actor=connector_owner,
            kind="data",
            verdict="request_changes",
            comment="Which calendars?",
        )
    to_requester = [m for m in mail.outbox if m.to == ["sam@corp.example"]]
    assert to_requester and "changes requested" in to_requester[-1].subject.lower()
    assert "> Which calendars?" in to_requester[-1].body


def test_reviewers_are_reminded_once_per_period(version_request, connector_owner):
    from datetime import timedelta

    import time_machine

    from catalog.tasks import remind_intake_reviewers

    with time_machine.travel(version_request.state_changed_at + timedelta(days=4)):
        assert remind_intake_reviewers() > 0
        assert remind_intake_reviewers() == 0
    assert any("Still waiting" in m.subject for m in mail.outbox)
