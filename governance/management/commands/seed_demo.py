"""manage.py seed_demo: a believable organisation with 90 days of agent activity.

People for every role, the demo policy (governance/demo/policy.yaml, loaded through the
ordinary policy import), two agent runtimes, and about 90 days of decisions produced by
sending requests through the real decision service, with approvals decided by the demo
approvers through the real vote service. Deterministic (fixed random seed)."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from approvals.models import ApprovalRequest
from approvals.services import approval_request_expire, approval_vote_cast
from audit.services import SYSTEM
from governance.choices import DecisionStatus, Role
from governance.models import AgentRuntime, PermissionProfile, User
from governance.policy import policy_import, policy_parse
from governance.services import decision_create, decision_outcome_report, runtime_create

DEMO_PASSWORD = "demo"  # noqa: S105 - printed on purpose: demo logins for a local try-out
POLICY_FILE = Path(__file__).resolve().parents[2] / "demo" / "policy.yaml"
TOKEN_FILE = settings.BASE_DIR / ".demo-token"

# username, first, last, groups, staff
PEOPLE = [
    ("admin", "Ada", "Admin", [], True),
    ("gina", "Gina", "Alvarez", [Role.GOVERNANCE_ADMIN], True),
    ("owen", "Owen", "Park", [Role.CONNECTOR_OWNER, "CRM owners"], False),
    ("priya", "Priya", "Shah", [Role.CONNECTOR_OWNER, "Security reviewers"], False),
    ("alex", "Alex", "Kim", [Role.APPROVER, "Finance approvers"], False),
    ("blake", "Blake", "Chen", [Role.APPROVER, "Finance approvers"], False),
    ("lee", "Lee", "Morgan", [Role.LEADERSHIP], False),
    ("audrey", "Audrey", "Flores", [Role.AUDITOR], False),
    ("sam", "Sam", "Rivera", ["Sales"], False),
    ("jordan", "Jordan", "Blake", ["Sales"], False),
    ("casey", "Casey", "Ng", ["Support"], False),
    ("riley", "Riley", "Okafor", ["Support"], False),
    ("morgan", "Morgan", "Diaz", ["Finance"], False),
    ("taylor", "Taylor", "Singh", ["Finance"], False),
    ("devon", "Devon", "Miller", ["Engineering"], False),
]
LOGINS = [
    (
        "gina",
        "Governance admin: profiles, action types, allow-list, catalog, runtimes "
        "(Runtimes: Claude Code's managed settings), tool mappings",
    ),
    ("owen", "Connector owner: CRM, mail, ticketing and their versions"),
    ("priya", "Security reviewer: reviews intake requests; owns drive, finance and repo"),
    ("alex", "Approver: the approval inbox (also in Finance approvers)"),
    ("blake", "Approver: the second approver for critical actions"),
    ("lee", "Leadership: dashboards"),
    ("audrey", "Auditor: the audit log"),
    ("sam", "Sales rep: agents act on his behalf (no governance role)"),
    ("admin", "Superuser: the Django admin"),
]
MODEL = "claude-sonnet-4-5"


def email_of(username: str) -> str:
    return f"{username}@corp.example"


@dataclass
class Proposal:
    runtime: str
    person: str
    profile: str
    action: str
    connector: str | None = None
    data_sources: tuple[str, ...] = ()
    plugin: str | None = None
    params: dict | None = None
    rationale: str = ""
    # how people decide it if it goes to them: approve / reject / expire / edit
    verdicts: tuple[tuple[str, float], ...] = (("approve", 1.0),)
    slow: bool = False


# Support comments; a few promise money, which the demo policy sends to a person.
COMMENTS = (
    "We are looking into it.",
    "We are looking into it.",
    "Thanks, we reproduced the issue and a fix is on its way.",
    "Could you send us the log file from the failing run?",
    "We are sorry for the trouble: we will credit your account for this month.",
    "A refund of the duplicate charge is on its way.",
)


class Command(BaseCommand):
    help = "Load the demo organisation and ~90 days of decisions made by the real engine."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=90, help="Days of history (0: people and policy only)."
        )
        parser.add_argument("--per-day", type=int, default=36, help="Decisions per day (about).")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--quiet", action="store_true")
        parser.add_argument(
            "--token-file",
            default=str(TOKEN_FILE),
            help="Where to write the runtimes' tokens (name=token lines, mode 600).",
        )

    def handle(self, *args, days, per_day, seed, quiet, token_file, **options):
        if User.objects.filter(username="gina").exists():
            self.stdout.write("Demo data is already loaded (delete db.sqlite3 to start over).")
            self.print_logins()
            return
        if days < 0 or per_day < 1:
            raise CommandError("--days must be 0 or more and --per-day positive.")
        self.token_file = Path(token_file)
        self.rng = random.Random(seed)
        self.quiet = quiet
        self.create_people()
        result = policy_import(policy_parse(POLICY_FILE.read_text()), actor=SYSTEM)
        self.say(f"Policy loaded: {len(result.changes)} configuration changes, each audited.")
        self.create_runtimes()
        # History is history: nobody is e-mailed about what was decided long ago.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            if days:
                self.create_history(days, per_day)
            self.create_intake_requests()
        self.refresh_dashboards()
        self.print_logins()

    def say(self, message: str) -> None:
        if not self.quiet:
            self.stdout.write(message)

    # -- people and runtimes ------------------------------------------------

    def create_people(self) -> None:
        for role in Role:
            Group.objects.get_or_create(name=role.value)
        for username, first, last, groups, staff in PEOPLE:
            user = User.objects.create_user(
                username=username,
                email=email_of(username),
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_staff=staff,
                is_superuser=username == "admin",
            )
            user.groups.set([Group.objects.get_or_create(name=str(g))[0] for g in groups])
        self.say(f"Created {len(PEOPLE)} people.")

    def create_runtimes(self) -> None:
        profiles = {p.slug: p for p in PermissionProfile.objects.all()}
        specs = {
            "cowork-sales": ["account-summary", "sales-followup", "legacy-mailer"],
            "cowork-ops": ["support-triage", "finance-close", "doc-cleanup"],
            "claude-code": ["code-assistant"],
            "mcp-gateway": ["repo-maintenance"],
        }
        self.runtimes = {}
        tokens = []
        for name, slugs in specs.items():
            runtime, token = runtime_create(
                actor=SYSTEM,
                name=name,
                profiles=[profiles[s] for s in slugs],
                description=f"Agent runtime for {', '.join(slugs)}.",
            )
            self.runtimes[name] = runtime
            tokens.append(f"{name}={token}")
        # Create the file private before writing the tokens into it.
        self.token_file.touch(mode=0o600, exist_ok=True)
        self.token_file.chmod(0o600)
        self.token_file.write_text("\n".join(tokens) + "\n")
        self.say(f"Created runtimes {', '.join(specs)}; their tokens are in {self.token_file}.")

    # -- history ---------------------------------------------------------------

    def create_history(self, days: int, per_day: int) -> None:
        now = timezone.now()
        start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
        self.approvers = {
            u.username: u for u in User.objects.filter(username__in=["alex", "blake", "gina"])
        }
        total = 0
        for day in range(days):
            day_start = start + timedelta(days=day)
            with transaction.atomic():
                count = max(1, int(self.rng.gauss(per_day, per_day / 6)))
                if day_start.weekday() >= 5:
                    count //= 4
                for _ in range(count):
                    at = day_start + timedelta(minutes=self.rng.randint(8 * 60, 19 * 60))
                    if at < now - timedelta(hours=5):
                        self.propose(self.pick_scenario(), at, now)
                        total += 1
            if not self.quiet and (day + 1) % 10 == 0:
                self.stdout.write(f"  {day + 1}/{days} days, {total} decisions")
        self.create_open_requests(now)
        self.say(f"Recorded {total} historical decisions through the decision engine.")

    def create_open_requests(self, now: datetime) -> None:
        """A handful of requests still waiting, so the inbox has work in it."""
        open_scenarios = [
            self.followup_send,
            self.crm_update,
            self.finance_modify,
            self.ticket_close,
            self.followup_send,
            self.doc_delete,
        ]
        for index, make in enumerate(open_scenarios):
            proposal = make()
            at = now - timedelta(minutes=2 + index * 3)
            self.decide(proposal, at)

    def pick_scenario(self) -> Proposal:
        scenarios = [
            (self.account_read, 22),
            (self.account_draft, 12),
            (self.crm_update, 8),
            (self.followup_send, 7),
            (self.ticket_comment, 10),
            (self.ticket_close, 6),
            (self.ledger_read, 6),
            (self.finance_modify, 3),
            (self.doc_read, 3),
            (self.doc_delete, 2),
            (self.doc_share, 1),
            (self.code_write, 4),
            (self.shell_exec, 2),
            (self.denied_scope, 3),
            (self.denied_launcher, 1),
            (self.denied_retired, 1),
            (self.denied_plugin_version, 1),
            (self.denied_unapproved_item, 1),
            (self.unknown_action, 1),
            (self.denied_finance_hr, 1),
        ]
        makers, weights = zip(*scenarios, strict=True)
        return self.rng.choices(makers, weights=weights)[0]()

    def propose(self, proposal: Proposal, at: datetime, now: datetime) -> None:
        decision = self.decide(proposal, at)
        if decision.status == DecisionStatus.PENDING:
            self.resolve(decision, proposal, at, now)
            decision.refresh_from_db()
        if decision.status in (DecisionStatus.ALLOWED, DecisionStatus.APPROVED):
            roll = self.rng.random()
            status = "executed" if roll < 0.95 else "failed" if roll < 0.98 else "skipped"
            decision_outcome_report(
                decision,
                runtime=decision.runtime,
                status=status,
                params_digest=decision.effective_params_digest,
                detail="" if status == "executed" else "Upstream API timed out.",
                now=(decision.resolved_at or at) + timedelta(seconds=self.rng.randint(1, 20)),
            )

    def decide(self, proposal: Proposal, at: datetime):
        decision, _ = decision_create(
            runtime=self.runtimes[proposal.runtime],
            request_id=f"demo-{self.rng.getrandbits(64):016x}",
            on_behalf_of=email_of(proposal.person),
            profile=proposal.profile,
            action=proposal.action,
            connector=proposal.connector,
            data_sources=proposal.data_sources,
            plugin=proposal.plugin,
            model=MODEL,
            params=proposal.params or {},
            rationale=proposal.rationale,
            now=at,
        )
        return decision

    def resolve(self, decision, proposal: Proposal, at: datetime, now: datetime) -> None:
        approval = ApprovalRequest.objects.get(decision=decision)
        verdicts, weights = zip(*proposal.verdicts, strict=True)
        verdict = self.rng.choices(verdicts, weights=weights)[0]
        if verdict == "expire":
            approval_request_expire(approval.pk, now=approval.expires_at + timedelta(minutes=1))
            return
        group = approval.group.name
        voters = ["gina"] if group == Role.GOVERNANCE_ADMIN.value else ["alex", "blake"]
        self.rng.shuffle(voters)
        ttl = (approval.expires_at - at).total_seconds() / 60
        wait = self.rng.uniform(0.5, 0.95 if proposal.slow else 0.4) * ttl
        when = at + timedelta(minutes=wait)
        for voter in voters[: approval.approvals_needed]:
            when = min(when, now - timedelta(minutes=1), approval.expires_at - timedelta(minutes=1))
            if verdict == "reject":
                approval_vote_cast(
                    approval.pk,
                    voter=self.approvers[voter],
                    verdict="reject",
                    comment=self.rng.choice(REJECTIONS),
                    now=when,
                )
                return
            edited = None
            if verdict == "edit" and voter == voters[0]:
                edited = {**(proposal.params or {}), **EDITS.get(proposal.action, {})}
            approval_vote_cast(
                approval.pk,
                voter=self.approvers[voter],
                verdict="approve",
                comment="",
                edited_params=edited,
                now=when,
            )
            when += timedelta(minutes=self.rng.uniform(2, 30))

    def refresh_dashboards(self) -> None:
        from audit.insights.rollups import rollups_refresh
        from audit.insights.tuning import recommendations_refresh

        days = rollups_refresh(full=True)
        count = recommendations_refresh()
        self.say(f"Dashboards: {len(days)} days rolled up; {count} tuning recommendations.")

    # -- catalog intake ------------------------------------------------------------

    def create_intake_requests(self) -> None:
        """Intake requests in several states, through the workflow, so the queue has work."""
        from catalog.choices import CHECKLISTS
        from catalog.models import CatalogItem
        from catalog.workflow import (
            intake_request_publish,
            intake_request_reject,
            intake_request_submit,
            intake_review_add,
        )

        people = {u.username: u for u in User.objects.all()}
        item = {i.slug: i for i in CatalogItem.objects.all()}
        checks = {kind: sorted(key for key, _ in items) for kind, items in CHECKLISTS.items()}

        def digest(n: int) -> str:
            return "sha256:" + f"{n:02x}" * 32

        def approve(intake, security, data):
            intake_review_add(
                intake,
                actor=people[security],
                kind="security",
                verdict="approve",
                checklist=checks["security"],
            )
            intake_review_add(
                intake, actor=people[data], kind="data", verdict="approve", checklist=checks["data"]
            )

        published = intake_request_submit(
            actor=people["jordan"],
            item=item["crm"],
            version="1.5.0",
            artifact_digest=digest(1),
            vendor="Salesforce",
            systems=["Salesforce"],
            data_classes=["confidential", "pii"],
            reach="write",
            justification="Bulk read of opportunities; the agents need it for forecasts.",
        )
        approve(published, "priya", "owen")
        intake_request_publish(published, actor=people["owen"])
        intake_request_submit(
            actor=people["sam"],
            item=item["sales-outreach"],
            version="2.3.0",
            artifact_digest=digest(2),
            vendor="Internal",
            systems=["Salesforce", "Exchange Online"],
            data_classes=["confidential", "pii"],
            reach="write",
            justification="Follow-ups in the customer's language.",
        )
        calendar = intake_request_submit(
            actor=people["casey"],
            slug="calendar",
            name="Calendar",
            item_kind="connector",
            description="Read and propose **meeting times**.",
            version="1.0.0",
            artifact_digest=digest(3),
            vendor="Google Workspace",
            systems=["Google Calendar"],
            data_classes=["internal", "pii"],
            reach="write",
            justification="Support agents book call-backs with customers.",
        )
        intake_review_add(
            calendar,
            actor=people["priya"],
            kind="security",
            verdict="approve",
            checklist=checks["security"],
        )
        close = intake_request_submit(
            actor=people["morgan"],
            item=item["finance-close"],
            version="1.0.0",
            artifact_digest=digest(4),
            vendor="Internal",
            systems=["NetSuite"],
            data_classes=["financial"],
            reach="write",
            justification="Automates accruals.",
        )
        intake_review_add(
            close,
            actor=people["blake"],
            kind="data",
            verdict="request_changes",
            comment="Which ledgers does it post to? List them under systems.",
        )
        review = intake_request_submit(
            actor=people["devon"],
            slug="code-review",
            name="Code review",
            item_kind="skill",
            version="0.1.0",
            artifact_digest=digest(5),
            vendor="GitHub",
            reach="read",
            justification="Review pull requests.",
        )
        intake_request_reject(
            review,
            actor=people["gina"],
            reason="Use the code-assistant profile with the repo connector instead.",
        )
        self.say(
            "Filed 5 catalog intake requests (published, waiting, in review, sent back, rejected)."
        )

    # -- scenarios ---------------------------------------------------------------

    def account(self) -> int:
        return self.rng.randint(1000, 1400)

    def sales_rep(self) -> str:
        return self.rng.choice(["sam", "jordan"])

    def account_read(self) -> Proposal:
        acct = self.account()
        return Proposal(
            "cowork-sales",
            self.sales_rep(),
            "account-summary",
            "crm.read_record",
            data_sources=(f"crm:account/{acct}", f"ticketing:ticket/{acct}-open"),
            plugin="sales-outreach@2.1.0",
            params={"account_id": acct, "fields": ["name", "owner", "arr", "renewal_date"]},
            rationale="Summarise the account before the QBR.",
        )

    def account_draft(self) -> Proposal:
        acct = self.account()
        return Proposal(
            "cowork-sales",
            self.sales_rep(),
            "account-summary",
            "mail.draft",
            connector="mail",
            data_sources=(f"crm:account/{acct}", f"mail:drafts/acct-{acct}"),
            plugin="sales-outreach@2.1.0",
            params={"to": "account-owner@corp.example", "subject": f"Account {acct} summary"},
        )

    def crm_update(self) -> Proposal:
        opp = self.rng.randint(5000, 5600)
        return Proposal(
            "cowork-sales",
            self.sales_rep(),
            "sales-followup",
            "crm.update_record",
            connector="crm",
            data_sources=(f"crm:opportunity/{opp}",),
            plugin="sales-outreach@2.1.0",
            params={"opportunity_id": opp, "stage": "Negotiation", "next_step": "Send proposal"},
            rationale="The customer agreed to a proposal in today's call.",
            verdicts=(("approve", 1.0),),
        )

    def followup_send(self) -> Proposal:
        contact = self.rng.randint(200, 260)
        return Proposal(
            "cowork-sales",
            self.sales_rep(),
            "sales-followup",
            "mail.send_external",
            connector="mail",
            data_sources=(f"crm:contact/{contact}", f"mail:outbox/followup-{contact}"),
            plugin="sales-outreach@2.1.0",
            params={
                "to": f"buyer{contact}@customer.example",
                "subject": "Thanks for today's call",
                "body": "Hi, as promised here is the proposal with a 20% discount...",
            },
            rationale="Follow-up e-mail after the discovery call, as the rep asked.",
            verdicts=(("approve", 0.62), ("edit", 0.18), ("reject", 0.14), ("expire", 0.06)),
        )

    def ticket_comment(self) -> Proposal:
        ticket = self.rng.randint(80000, 89999)
        return Proposal(
            "cowork-ops",
            self.rng.choice(["casey", "riley"]),
            "support-triage",
            "ticket.comment",
            connector="ticketing",
            data_sources=(f"ticketing:ticket/{ticket}", f"crm:account/{self.account()}"),
            plugin="support-triage@1.3.0",
            params={"ticket_id": ticket, "comment": self.rng.choice(COMMENTS)},
            verdicts=(("approve", 0.7), ("edit", 0.2), ("reject", 0.1)),
        )

    def ticket_close(self) -> Proposal:
        ticket = self.rng.randint(80000, 89999)
        return Proposal(
            "cowork-ops",
            self.rng.choice(["casey", "riley"]),
            "support-triage",
            "ticket.close",
            connector="ticketing",
            data_sources=(f"ticketing:ticket/{ticket}",),
            plugin="support-triage@1.3.0",
            params={"ticket_id": ticket, "resolution": "solved"},
            rationale="The customer confirmed the fix.",
            verdicts=(("approve", 1.0),),
        )

    def ledger_read(self) -> Proposal:
        return Proposal(
            "cowork-ops",
            self.rng.choice(["morgan", "taylor"]),
            "finance-close",
            "finance.read_ledger",
            data_sources=(f"finance:ledger/{self.rng.choice(['2026-08', '2026-09', '2026-10'])}",),
            plugin="finance-close@0.9.0",
            params={"period": "current"},
        )

    def finance_modify(self) -> Proposal:
        entry = self.rng.randint(1, 400)
        return Proposal(
            "cowork-ops",
            self.rng.choice(["morgan", "taylor"]),
            "finance-close",
            "finance.modify_record",
            connector="finance",
            data_sources=(f"finance:journal/JE-{entry}",),
            plugin="finance-close@0.9.0",
            params={
                "entry": f"JE-{entry}",
                "amount": self.rng.randint(100, 90000),
                "account": "4000",
            },
            rationale="Accrual for services received but not invoiced.",
            verdicts=(("approve", 0.82), ("reject", 0.12), ("expire", 0.06)),
            slow=True,
        )

    def doc_read(self) -> Proposal:
        return Proposal(
            "cowork-ops",
            "devon",
            "doc-cleanup",
            "drive.read_file",
            data_sources=(f"drive:eng/design-{self.rng.randint(1, 300)}.md",),
            params={},
            verdicts=(("approve", 1.0),),
        )

    def doc_delete(self) -> Proposal:
        doc = self.rng.randint(1, 300)
        return Proposal(
            "cowork-ops",
            "devon",
            "doc-cleanup",
            "drive.delete_file",
            connector="drive",
            data_sources=(f"drive:eng/old-{doc}.md",),
            params={"path": f"eng/old-{doc}.md"},
            rationale="Not opened since 2022.",
            verdicts=(("approve", 0.7), ("reject", 0.3)),
        )

    def doc_share(self) -> Proposal:
        return Proposal(
            "cowork-ops",
            "devon",
            "doc-cleanup",
            "drive.share_external",
            connector="drive",
            data_sources=("drive:eng/architecture.pdf",),
            params={"with": "contractor@partner.example"},
            verdicts=(("reject", 0.6), ("approve", 0.4)),
        )

    def code_write(self) -> Proposal:
        path = self.rng.choice(["src/app.py", "src/api/views.py", "README.md", "tests/test_app.py"])
        return Proposal(
            "claude-code",
            "devon",
            "code-assistant",
            "file.write",
            connector="repo",
            data_sources=(f"repo:{path}",),
            params={"file_path": path},
        )

    def shell_exec(self) -> Proposal:
        command = self.rng.choice(["pytest -q", "git push origin main", "rm -rf build/"])
        return Proposal(
            "claude-code",
            "devon",
            "code-assistant",
            "shell.exec",
            params={"command": command},
            verdicts=(("approve", 0.75), ("reject", 0.25)),
        )

    def denied_scope(self) -> Proposal:
        return Proposal(
            "cowork-sales",
            self.sales_rep(),
            "account-summary",
            "crm.read_record",
            data_sources=(f"crm:opportunity/{self.rng.randint(5000, 5600)}",),
            plugin="sales-outreach@2.1.0",
            params={},
            rationale="Check the pipeline for this account.",
        )

    def denied_launcher(self) -> Proposal:
        return Proposal(
            "cowork-ops",
            "sam",
            "finance-close",
            "finance.read_ledger",
            data_sources=("finance:ledger/2026-10",),
            plugin="finance-close@0.9.0",
        )

    def denied_retired(self) -> Proposal:
        return Proposal(
            "cowork-sales",
            self.sales_rep(),
            "legacy-mailer",
            "mail.send_external",
            connector="mail",
            data_sources=("mail:outbox/newsletter",),
        )

    def denied_plugin_version(self) -> Proposal:
        plugin = self.rng.choice(["sales-outreach@2.2.0", "sales-outreach@2.0.0"])
        return Proposal(
            "cowork-sales",
            self.sales_rep(),
            "account-summary",
            "crm.read_record",
            data_sources=(f"crm:account/{self.account()}",),
            plugin=plugin,
        )

    def denied_unapproved_item(self) -> Proposal:
        return Proposal(
            "cowork-ops",
            self.rng.choice(["casey", "riley"]),
            "support-triage",
            "crm.read_record",
            data_sources=("hr-records:employee/331",),
        )

    def unknown_action(self) -> Proposal:
        return Proposal(
            "cowork-ops",
            self.rng.choice(["casey", "riley"]),
            "support-triage",
            "ticket.merge",
            connector="ticketing",
            data_sources=(f"ticketing:ticket/{self.rng.randint(80000, 89999)}",),
            plugin="support-triage@1.3.0",
            params={"into": 81234},
            verdicts=(("approve", 0.5), ("reject", 0.5)),
        )

    def denied_finance_hr(self) -> Proposal:
        return Proposal(
            "cowork-ops",
            self.rng.choice(["morgan", "taylor"]),
            "finance-close",
            "drive.read_file",
            data_sources=("drive:hr/salaries-2026.xlsx",),
            plugin="finance-close@0.9.0",
        )

    # -- output -------------------------------------------------------------------

    def print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        for username, what in LOGINS:
            self.stdout.write(f"  {username:<8} {what}")
        if AgentRuntime.objects.exists():
            self.stdout.write(f"Agent runtime tokens: {getattr(self, 'token_file', TOKEN_FILE)}")


REJECTIONS = [
    "The discount is above what the rep may offer.",
    "Wrong recipient: this contact left the company.",
    "Not before the contract is signed.",
    "Please check with legal first.",
    "Amount does not match the invoice.",
]
EDITS = {
    "mail.send_external": {"body": "Hi, as promised here is the proposal (standard pricing)..."},
    "finance.modify_record": {"amount": 1200},
}
