"""Client tests run against the real console (pytest-django's live server), configured
with the demo organisation's policy, people and runtimes; the *_fail_closed.py tests run
without a database, against FakeConsoles (fakes.py) and a fake clock."""

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakes import JSON, Clock, FakeConsole, decision_json, jitter

from audit.services import SYSTEM
from governance.management.commands.seed_demo import PEOPLE, POLICY_FILE, email_of
from governance.models import PermissionProfile, User
from governance.policy import policy_import, policy_parse
from governance.services import runtime_create, user_token_create

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Console:
    url: str
    tokens: dict[str, str]  # runtime name -> bearer token
    approver_token: str  # alex's personal token (approvals API)

    def approvals(self, action: str) -> list[dict]:
        request = urllib.request.Request(
            f"{self.url}/api/v1/approvals?action={action}",
            headers={"Authorization": f"Bearer {self.approver_token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["results"]

    def vote(self, approval_id: int, verdict: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}/api/v1/approvals/{approval_id}/{verdict}",
            data=json.dumps(body or {}).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.approver_token}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)


@pytest.fixture
def console(live_server, settings):
    """The demo organisation's policy behind a live console."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.contrib.auth.models import Group

    for username, first, _last, groups, _staff in PEOPLE:
        user = User.objects.create_user(
            username=username, email=email_of(username), first_name=first
        )
        user.groups.set([Group.objects.get_or_create(name=str(g))[0] for g in groups])
    policy_import(policy_parse(POLICY_FILE.read_text()), actor=SYSTEM)
    tokens = {}
    for name, slugs in {
        "cowork-sales": ["account-summary", "sales-followup"],
        "claude-code": ["code-assistant"],
        "mcp-gateway": ["repo-maintenance"],
    }.items():
        _, tokens[name] = runtime_create(
            actor=SYSTEM, name=name, profiles=PermissionProfile.objects.filter(slug__in=slugs)
        )
    _, approver_token = user_token_create(
        User.objects.get(username="alex"), actor=SYSTEM, name="tests"
    )
    return Console(live_server.url, tokens, approver_token)


@pytest.fixture
def scratch_repo(tmp_path) -> Path:
    """A throwaway git repository with a staged change."""
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Devon",
        "GIT_AUTHOR_EMAIL": "devon@corp.example",
        "GIT_COMMITTER_NAME": "Devon",
        "GIT_COMMITTER_EMAIL": "devon@corp.example",
    }
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "init"]):
        if command[0] == "add":
            (repo / "README.md").write_text("hello\n")
        subprocess.run(["git", *command], cwd=repo, check=True, env=env)
    (repo / "README.md").write_text("hello\nmore\n")
    subprocess.run(["git", "add", "README.md"], cwd=repo, check=True, env=env)
    return repo


@pytest.fixture
def clock(monkeypatch):
    """The client's clock, fake (fakes.Clock); its jitter in the middle of its range, where
    both factors are 1.0 (0.5 + 0.5 and 0.8 + 0.4 * 0.5)."""
    import agent_governance.client

    clock = Clock()
    monkeypatch.setattr(agent_governance.client, "time", clock)
    jitter(monkeypatch, 0.5)
    return clock


@pytest.fixture
def elsewhere():
    """Another host, which would say "allowed" to anything: no request may ever reach it."""
    fake = FakeConsole(lambda seen: (200, JSON, decision_json("anything", params={})))
    yield fake
    fake.close()
