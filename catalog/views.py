"""Catalog pages: browse items, manage versions, and the intake review workflow.
Thin: selectors read, forms parse, services (catalog/services.py, workflow.py) decide."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.choices import CHECKLISTS, IntakeState, ReviewKind
from catalog.filters import CatalogItemFilterSet, IntakeRequestFilterSet
from catalog.forms import IntakeForm, NoteForm, PinForm, ReviewForm, ServerJsonForm, YankForm
from catalog.models import CatalogVersion, IntakeRequest
from catalog.permissions import can_manage_item, can_publish_intake, can_view_intake, review_refusal
from catalog.selectors import (
    catalog_item_list,
    catalog_item_stats,
    catalog_pin_blast_radius,
    intake_next_step,
    intake_publish_blast_radius,
    intake_request_list_visible_to,
    intake_review_queue,
    intake_tool_changes,
    profiles_using,
)
from catalog.server_json import server_json_intake_fields
from catalog.services import (
    catalog_version_pin,
    catalog_version_window_end,
    catalog_version_yank,
)
from catalog.workflow import (
    allowed_transitions,
    intake_request_publish,
    intake_request_reject,
    intake_request_resubmit,
    intake_request_start_review,
    intake_request_submit,
    intake_request_withdraw,
    intake_review_add,
)
from governance import permissions
from governance.exceptions import ApplicationError
from governance.views import filtered_page


@login_required
def catalog_item_list_view(request):
    """The approved catalog and its candidates, for everyone signed in."""
    filterset = CatalogItemFilterSet(request.GET, queryset=catalog_item_list())
    page, status = filtered_page(request, filterset, order_by=["kind", "slug"])
    return render(
        request,
        "catalog/catalog_item_list.html",
        {"filter": filterset, "page": page},
        status=status,
    )


@login_required
def catalog_item_detail(request, slug):
    item = get_object_or_404(catalog_item_list(), slug=slug)
    return render(
        request,
        "catalog/catalog_item_detail.html",
        {
            "item": item,
            "versions": item.versions.order_by("-created_at"),
            "stats": catalog_item_stats(item),
            "profiles": profiles_using(item),
            "can_manage": can_manage_item(request.user, item),
            "yank_form": YankForm(),
            "open_intake": [
                (r, can_view_intake(request.user, r)) for r in item.intake_requests.open()
            ],
            # History and profiles are for the roles that oversee the policy; a sales rep
            # browsing the catalog sees their names, not links that would refuse them.
            "can_view_policy": permissions.can_view_policy(request.user),
        },
    )


def _version(slug, pk) -> CatalogVersion:
    return get_object_or_404(CatalogVersion.objects.select_related("item"), item__slug=slug, pk=pk)


@login_required
def catalog_version_pin_view(request, slug, pk):
    """Pin (or roll back to) an approved version, on a page that first shows its blast
    radius and offers a rollout window for the version pinned now."""
    version = _version(slug, pk)
    item = version.item
    if not can_manage_item(request.user, item):
        raise PermissionDenied(f"Only the owners of {item.slug} may pin its versions.")
    if version.is_pinned or version.is_yanked or version.review_state != "approved":
        messages.error(request, f"{version} cannot be pinned: it is {_version_state(version)}.")
        return redirect(item.get_absolute_url())
    radius = catalog_pin_blast_radius(item, version)
    form = PinForm(_posted(request), radius=radius)
    if request.method == "POST" and form.is_valid():
        until = form.cleaned_data["previous_allowed_until"]
        try:
            catalog_version_pin(version, actor=request.user, previous_allowed_until=until)
        except ApplicationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _pinned_message(version, radius, until))
            return redirect(item.get_absolute_url())
    context = {"item": item, "version": version, "radius": radius, "form": form}
    return render(request, "catalog/pin_confirm.html", context, status=400 if form.errors else 200)


def _posted(request):
    """The submitted data of a POST, even an empty one (a bound form reports its errors)."""
    return request.POST if request.method == "POST" else None


def _version_state(version: CatalogVersion) -> str:
    if version.is_pinned:
        return "already pinned"
    return "yanked" if version.is_yanked else version.get_review_state_display().lower()


def _pinned_message(version, radius, until, *, published: bool = False) -> str:
    done = f"{version} is {'published and ' if published else ''}pinned"
    if until is not None:
        local = timezone.localtime(until)
        return (
            f"{done}; {radius.current.version} stays allowed until "
            f"{local:%Y-%m-%d %H:%M} ({local.tzname()}), then it is refused."
        )
    return f"{done}: decisions naming any other version are refused."


@login_required
@require_POST
def catalog_version_window_end_view(request, slug, pk):
    """End a rollout window now (confirmed in the page's disclosure)."""
    version = _version(slug, pk)
    try:
        catalog_version_window_end(version, actor=request.user)
        messages.success(
            request, f"The rollout window of {version} has ended: decisions naming it are refused."
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(version.item.get_absolute_url())


@login_required
@require_POST
def catalog_version_yank_view(request, slug, pk):
    version = _version(slug, pk)
    form = YankForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for yanking the version.")
        return redirect(version.item.get_absolute_url())
    try:
        catalog_version_yank(version, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"{version} is yanked: decisions naming it are refused.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(version.item.get_absolute_url())


@login_required
def intake_request_list(request):
    filterset = IntakeRequestFilterSet(
        request.GET, queryset=intake_request_list_visible_to(request.user)
    )
    page, status = filtered_page(request, filterset, order_by=["-created_at"])
    return render(
        request,
        "catalog/intake_request_list.html",
        {"filter": filterset, "page": page, "queue": intake_review_queue(request.user)},
        status=status,
    )


@login_required
def intake_request_create(request):
    """Anyone signed in files a request for a new item or a new version."""
    form = IntakeForm(request.POST or None, initial={"item": request.GET.get("item")})
    if request.method == "POST" and form.is_valid():
        try:
            intake = intake_request_submit(
                actor=request.user, item=form.cleaned_data["item"], **form.service_fields()
            )
        except ApplicationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, "Filed. The reviewers have been told; you will get an e-mail at each step."
            )
            return redirect(intake.get_absolute_url())
    status = 400 if form.errors else 200
    return render(
        request,
        "catalog/intake_request_form.html",
        {"form": form, "server_json_form": ServerJsonForm()},
        status=status,
    )


@login_required
@require_POST
def intake_request_from_server_json(request):
    """Prefill the intake form from an MCP Registry server.json (nothing is filed yet:
    the requester completes and submits it)."""
    source = ServerJsonForm(request.POST, request.FILES)
    fields, secrets = {}, []
    if source.is_valid():
        try:
            fields = server_json_intake_fields(source.cleaned_data["text"])
        except ApplicationError as error:
            source.add_error(None, error.message)
        else:
            secrets = fields.pop("secrets")
    context = {
        "form": IntakeForm(initial=fields),
        "server_json_form": source,
        "prefilled": bool(fields),
        "secrets": secrets,
    }
    return render(
        request, "catalog/intake_request_form.html", context, status=400 if source.errors else 200
    )


def _form_errors(form, error: ApplicationError) -> None:
    fields = error.extra.get("fields", {})
    for name, problems in fields.items():
        form.add_error(name if name in form.fields else None, problems)
    if not fields:
        form.add_error(None, error.message)


def _visible_intake(request, pk) -> IntakeRequest:
    intake = (
        IntakeRequest.objects.select_related("item", "requester", "published_version")
        .filter(pk=pk)
        .first()
    )
    if intake is None or not can_view_intake(request.user, intake):
        raise Http404("No such intake request.")
    return intake


@login_required
def intake_request_detail(request, pk, forms_=None, status=200):
    intake = _visible_intake(request, pk)
    review_forms = forms_ or {}
    reviews = []
    for kind in ReviewKind:
        refusal = review_refusal(request.user, intake, kind)
        reviews.append(
            {
                "kind": kind,
                "done": intake.current_reviews()
                .filter(kind=kind)
                .select_related("reviewer")
                .first(),
                "refusal": refusal[1] if refusal else None,
                "form": review_forms.get(kind) or ReviewForm(kind=kind),
                "checklist": CHECKLISTS[kind],
            }
        )
    context = {
        "intake": intake,
        "reviews": reviews,
        "history": intake.reviews.select_related("reviewer").order_by("round", "created_at"),
        "transitions": allowed_transitions(intake),
        "is_requester": intake.requester_id == request.user.pk,
        "can_publish": can_publish_intake(request.user, intake),
        "note_form": NoteForm(),
        "tool_changes": intake_tool_changes(intake) if intake.tool_definitions else None,
        "next_step": intake_next_step(request.user, intake),
    }
    return render(request, "catalog/intake_request_detail.html", context, status=status)


@login_required
@require_POST
def intake_request_review(request, pk, kind):
    intake = _visible_intake(request, pk)
    if kind not in ReviewKind.values:
        raise Http404("No such review.")
    form = ReviewForm(request.POST, kind=kind)
    if not form.is_valid():
        return intake_request_detail(request, pk, forms_={kind: form}, status=400)
    try:
        intake_review_add(
            intake,
            actor=request.user,
            kind=kind,
            **{k: v for k, v in form.cleaned_data.items() if k != "kind"},
        )
    except ApplicationError as error:
        form.add_error(None, error.message)
        return intake_request_detail(request, pk, forms_={kind: form}, status=error.status_code)
    messages.success(request, f"Your {ReviewKind(kind).label.lower()} is recorded.")
    return redirect(intake.get_absolute_url())


ACTIONS = {
    "start_review": lambda intake, user, note: intake_request_start_review(intake, actor=user),
    "withdraw": lambda intake, user, note: intake_request_withdraw(intake, actor=user, reason=note),
    "reject": lambda intake, user, note: intake_request_reject(intake, actor=user, reason=note),
}  # publishing has its own page (intake_request_publish_view): it shows the blast radius


@login_required
@require_POST
def intake_request_act(request, pk, action):
    """start_review, withdraw or reject (with a reason)."""
    intake = _visible_intake(request, pk)
    if action not in ACTIONS:
        raise Http404("No such action.")
    form = NoteForm(request.POST)
    note = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        ACTIONS[action](intake, request.user, note)
        messages.success(
            request,
            f"Done: the request is now {_visible_intake(request, pk).get_state_display().lower()}.",
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(reverse("catalog:intake_request_detail", args=[pk]))


@login_required
def intake_request_publish_view(request, pk):
    """Publish an approved request, on a page that first shows what pinning it changes
    (its blast radius) and offers a rollout window for the version pinned now."""
    intake = _visible_intake(request, pk)
    if not can_publish_intake(request.user, intake):
        raise PermissionDenied("Only the item's owners (or governance admins) publish it.")
    if intake.state != IntakeState.APPROVED:
        state = intake.get_state_display().lower()
        messages.error(request, f"This request is {state}; only an approved request is published.")
        return redirect(intake.get_absolute_url())
    radius = intake_publish_blast_radius(intake)
    form = PinForm(_posted(request), radius=radius, publishing=True, pin=intake.pin_on_publish)
    if request.method == "POST" and form.is_valid():
        try:
            version = intake_request_publish(intake, actor=request.user, **form.service_kwargs())
        except ApplicationError as error:
            _form_errors(form, error)
        else:
            until = form.cleaned_data["previous_allowed_until"]
            if form.cleaned_data["pin"] == PinForm.NO_PIN:
                message = f"{version} is published, not pinned."
            else:
                message = _pinned_message(version, radius, until, published=True)
            messages.success(request, message)
            return redirect(version.item.get_absolute_url())
    context = {
        "item": intake.item,
        "intake": intake,
        "version": radius.new,
        "radius": radius,
        "form": form,
    }
    return render(request, "catalog/pin_confirm.html", context, status=400 if form.errors else 200)


@login_required
def intake_request_resubmit_view(request, pk):
    """The requester changes what the reviewers asked for and resubmits."""
    intake = _visible_intake(request, pk)
    if intake.requester_id != request.user.pk:
        raise Http404("No such intake request.")
    initial = {
        name: getattr(intake, name) for name in IntakeForm.base_fields if hasattr(intake, name)
    }
    initial["item"] = intake.item.slug if intake.item else None
    initial["systems"] = ", ".join(intake.systems)
    initial["tool_definitions"] = intake.tool_definitions
    form = IntakeForm(request.POST or None, initial=initial)
    form.fields["item"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            intake_request_resubmit(intake, actor=request.user, **form.service_fields())
        except ApplicationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "Resubmitted: a new review round has started.")
            return redirect(intake.get_absolute_url())
    status = 400 if form.errors else 200
    return render(
        request, "catalog/intake_request_form.html", {"form": form, "intake": intake}, status=status
    )
