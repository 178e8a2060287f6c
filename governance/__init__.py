"""The project package and the policy domain of the Agent Governance Console."""

from governance.celery import app as celery_app

__all__ = ("celery_app",)
