"""manage.py stream_audit: deliver to each SIEM sink (AUDIT_SINKS) the audit events it
has not acknowledged yet, once, as the beat task does every few seconds.

Exit status 1 when a sink failed (the others were still served); its cursor stays where
it was, so the next run sends the same events again."""

from django.core.management.base import BaseCommand, CommandError

from audit.sinks import SinkConfigError
from audit.streaming import audit_stream_deliver, configured_sinks


class Command(BaseCommand):
    help = "Send the audit events the SIEM sinks have not received yet (what the beat task does)."

    def handle(self, *args, **options):
        try:
            sinks = configured_sinks()
        except SinkConfigError as error:
            raise CommandError(str(error)) from error
        if not sinks:
            self.stdout.write("No sinks configured (AUDIT_SINKS is empty).")
            return
        failed = []
        for result in audit_stream_deliver(sinks=sinks):
            if result.skipped:
                self.stdout.write(f"{result.sink}: another worker is streaming to it; skipped.")
            elif result.error:
                failed.append(result.sink)
                self.stderr.write(
                    f"{result.sink}: {result.delivered} event(s) delivered, then failed at "
                    f"event #{result.last_event_id}: {result.error}"
                )
            else:
                self.stdout.write(
                    f"{result.sink}: {result.delivered} event(s) delivered, "
                    f"up to event #{result.last_event_id}."
                )
        if failed:
            raise CommandError(f"Delivery failed for: {', '.join(failed)}.")
