"""Run by tests/test_celery_worker.py in a separate process (Django set up by the caller's
environment, a file database already migrated): the test policy, a runtime whose callback
is the test's receiver, a pending decision through the real API, and a person's approval.
The approval queues the webhook on the broker; the worker delivers it. Prints one JSON
line: the delivery id and the callback secret."""

import json
import sys

import django

django.setup()

from rest_framework.test import APIClient  # noqa: E402

from approvals.services import approval_vote_cast  # noqa: E402
from governance.services import runtime_callback_set  # noqa: E402
from governance.tests import fixtures  # noqa: E402


def fixture(name, *args):
    return getattr(fixtures, name)._get_wrapped_function()(*args)


url = sys.argv[1]
requester = fixture("requester", None)
policy = fixture("policy", None, requester)
approver = fixture("approver", None)
admin = fixture("governance_admin", None)
secret = runtime_callback_set(policy.runtime, actor=admin, url=url)
client = APIClient()
client.credentials(HTTP_AUTHORIZATION=f"Bearer {policy.runtime.token}")
body = fixture("proposal", policy)(
    action="mail.send_external",
    connector="mail",
    data_sources=["mail:outbox/1"],
    params={"to": "buyer@customer.example"},
)
answer = client.post("/api/v1/decisions", body, format="json").json()
assert answer["outcome"] == "pending", answer
approval_vote_cast(answer["approval_id"], voter=approver, verdict="approve")
from approvals.models import WebhookDelivery  # noqa: E402

delivery = WebhookDelivery.objects.get()
print(json.dumps({"delivery": delivery.pk, "secret": secret, "status": delivery.status}))
