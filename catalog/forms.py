"""Catalog forms: they parse; the services decide."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify

from catalog.choices import CHECKLISTS, DataClass, ItemKind, Reach, ReviewKind, ReviewVerdict
from catalog.models import CatalogItem


class ListField(forms.CharField):
    """Comma- or newline-separated values."""

    def to_python(self, value):
        text = super().to_python(value)
        return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class IntakeForm(forms.Form):
    item = forms.ModelChoiceField(
        queryset=CatalogItem.objects.all(),
        required=False,
        to_field_name="slug",
        empty_label="— a new item —",
        help_text="Leave empty to propose a new item; pick one to propose a new version of it.",
    )
    slug = forms.SlugField(
        required=False, max_length=100, help_text="For a new item, e.g. meeting-notes."
    )
    name = forms.CharField(required=False, max_length=200)
    item_kind = forms.ChoiceField(
        choices=[("", "—"), *ItemKind.choices], required=False, label="Kind"
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="Markdown."
    )
    version = forms.CharField(max_length=50)
    artifact_digest = forms.CharField(
        max_length=71, help_text="sha256:<64 hex digits> of the artifact."
    )
    vendor = forms.CharField(max_length=200, label="Vendor or source")
    systems = ListField(required=False, help_text="Systems it reaches, comma-separated.")
    data_classes = forms.MultipleChoiceField(
        choices=DataClass.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    reach = forms.ChoiceField(choices=Reach.choices)
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), help_text="Why agents need it, for which tasks."
    )
    mcp_server = forms.JSONField(
        required=False,
        label="How the MCP gateway reaches it",
        help_text='For an MCP server: {"command": ["uvx", "mcp-server-git==2026.10.19"]} or '
        '{"url": "https://..."}; secrets as ${NAME} references.',
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    tool_definitions = forms.JSONField(
        required=False,
        label="Tool definitions (tools/list)",
        help_text="For an MCP server: its tools/list result, e.g. the output of "
        "agc-mcp-gateway --describe -- COMMAND. The reviewers see every tool; publishing "
        "pins their digest, and the gateway refuses the server if they change.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    server_json = forms.JSONField(required=False, widget=forms.HiddenInput)
    pin_on_publish = forms.BooleanField(
        required=False, initial=True, label="Pin it when it is published"
    )

    def clean(self):
        data = super().clean()
        if not data.get("item") and data.get("name") and not data.get("slug"):
            data["slug"] = slugify(data["name"])
        return data

    def clean_tool_definitions(self):
        value = self.cleaned_data.get("tool_definitions")
        if isinstance(value, dict) and "digest" in value and "tools" in value:
            return value["tools"]  # the output of agc-mcp-gateway --describe
        return value

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("item", None)
        data["mcp_server"] = data.get("mcp_server") or {}
        if self.cleaned_data.get("item"):
            for name in ("slug", "name", "item_kind"):
                data.pop(name, None)
        return data


class ReviewForm(forms.Form):
    kind = forms.ChoiceField(choices=ReviewKind.choices, widget=forms.HiddenInput)
    verdict = forms.ChoiceField(choices=ReviewVerdict.choices)
    checklist = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, initial={"kind": kind}, **kwargs)
        self.fields["checklist"].choices = CHECKLISTS[kind]
        self.prefix = kind


class NoteForm(forms.Form):
    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class PinForm(forms.Form):
    """How to pin a version, chosen after seeing its blast radius: with a rollout window
    for the version pinned now, at once (confirmed when decisions would be refused), or,
    when publishing, not at all."""

    WINDOW, NOW, NO_PIN = "window", "now", "none"

    pin = forms.ChoiceField(widget=forms.RadioSelect, label="How to pin it")
    allowed_until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    confirm = forms.BooleanField(required=False)

    def __init__(self, *args, radius, publishing: bool = False, pin: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.radius = radius
        new = radius.new.version
        current = radius.current.version if radius.current else None
        choices = []
        if radius.applies:
            choices.append(
                (self.WINDOW, f"Pin {new}, and keep {current} allowed until a date I choose")
            )
        refusing = f": {current} is refused from the next decision on" if radius.applies else ""
        choices.append((self.NOW, f"Pin {new} now{refusing}"))
        if publishing:
            kept = f"{current} stays pinned" if current else "nothing is pinned"
            choices.append((self.NO_PIN, f"Publish {new} without pinning it ({kept})"))
        self.fields["pin"].choices = choices
        default = self.WINDOW if radius.applies and radius.total else self.NOW
        self.fields["pin"].initial = default if pin or not publishing else self.NO_PIN
        until = self.fields["allowed_until"]
        until.label = f"Keep {current} allowed until" if current else "Allowed until"
        until.initial = timezone.localdate() + timedelta(days=14)
        until.help_text = (
            f"From 00:00 ({settings.TIME_ZONE}) on this day, decisions naming {current} are "
            "refused with version_not_pinned. At most 90 days ahead."
        )
        self.fields["confirm"].label = (
            f"I understand that {radius.refused} decision{'s' if radius.refused != 1 else ''} "
            f"like those above would be refused from now on"
        )

    def clean(self):
        data = super().clean()
        choice = data.get("pin")
        data["previous_allowed_until"] = None
        if choice == self.WINDOW:
            from governance.periods import day_start

            if data.get("allowed_until") is None:
                self.add_error("allowed_until", "Choose the day the rollout window ends.")
            else:
                data["previous_allowed_until"] = day_start(data["allowed_until"])
        elif choice == self.NOW and self.radius.refused and not data.get("confirm"):
            self.add_error(
                "confirm",
                "Tick this to confirm, or choose a rollout window: pinning now refuses "
                "the decisions above.",
            )
        return data

    def service_kwargs(self) -> dict:
        return {
            "pin": self.cleaned_data["pin"] != self.NO_PIN,
            "previous_allowed_until": self.cleaned_data["previous_allowed_until"],
        }


class YankForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ServerJsonForm(forms.Form):
    """Start an intake request from an MCP Registry server.json (pasted or uploaded)."""

    text = forms.CharField(
        required=False,
        label="server.json",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Paste the server's server.json, or upload it below.",
    )
    upload = forms.FileField(required=False, label="or upload it")

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        if upload is not None:
            if upload.size > 256 * 1024:
                raise forms.ValidationError("The file is larger than 256 KiB.")
            try:
                data["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError as error:
                raise forms.ValidationError("The file is not UTF-8 text.") from error
        if not data.get("text", "").strip():
            raise forms.ValidationError("Paste or upload a server.json.")
        return data
