"""gunicorn floor_wsgi:application (run from bench/, with the project on the path): the
console's settings and the decision API's slim middleware, but only the floor's URL."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
django.setup()

from django.conf import settings  # noqa: E402

settings.ROOT_URLCONF = "floor_urls"  # this process only

from governance.wsgi import AgentAPIHandler  # noqa: E402

application = AgentAPIHandler()
