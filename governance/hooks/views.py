"""Pages of the tool mappings (governance admins edit, overseeing roles read, everyone
with the page may try the test box) and the managed-settings downloads of a runtime."""

import json

from agent_governance.tool_mapping import MappingError, map_call
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from governance import permissions
from governance.engine import matches_any
from governance.exceptions import ApplicationError
from governance.hooks.claude_settings import claude_settings_build, managed_mcp_build
from governance.hooks.forms import ToolCallTestForm, ToolMappingForm
from governance.hooks.selectors import mcp_tool_annotations, tool_mapping_rules
from governance.hooks.services import (
    tool_mapping_create,
    tool_mapping_delete,
    tool_mapping_update,
)
from governance.models import AgentRuntime, ToolMapping
from governance.views import role_required


def _form_errors(form, error: ApplicationError) -> None:
    fields = error.extra.get("fields", {})
    for name, problems in fields.items():
        form.add_error(name if name in form.fields else None, problems)
    if not fields:
        form.add_error(None, error.message)


def _test_result(form: ToolCallTestForm) -> dict | None:
    """What the test box shows: the mapped action, or why the mapping cannot apply."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        mapped = map_call(
            tool_mapping_rules(),
            data["tool_name"],
            data["tool_input"],
            cwd=data["cwd"],
            annotations=mcp_tool_annotations(data["tool_name"]),
        )
    except MappingError as error:
        return {"error": str(error)}
    profile = data.get("profile")
    allowed = matches_any(mapped.action, tuple(profile.action_types)) if profile else None
    return {"mapped": mapped, "profile": profile, "allowed": allowed}


@role_required(permissions.can_view_policy)
def tool_mapping_list(request):
    """The mapping rules, a form to add one (admins) and the test box."""
    is_admin = permissions.can_manage_policy(request.user)
    if request.method == "POST" and not is_admin:
        raise PermissionDenied
    form = ToolMappingForm(request.POST or None) if is_admin else None
    if request.method == "POST" and is_admin and form.is_valid():
        try:
            mapping = tool_mapping_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"{mapping.tool} now maps to {mapping.action}.")
            return redirect("governance:tool_mapping_list")
    test_form = ToolCallTestForm(request.GET if "tool_name" in request.GET else None)
    context = {
        "mappings": ToolMapping.objects.all(),
        "form": form,
        "test_form": test_form if test_form.is_bound else ToolCallTestForm(),
        "test": _test_result(test_form) if test_form.is_bound else None,
        "is_admin": is_admin,
    }
    status = 400 if (form and form.errors) or (test_form.is_bound and test_form.errors) else 200
    return render(request, "governance/tool_mapping_list.html", context, status=status)


@role_required(permissions.can_manage_policy)
def tool_mapping_edit(request, pk):
    mapping = get_object_or_404(ToolMapping, pk=pk)
    initial = {
        "tool": mapping.tool,
        "action": mapping.action,
        "connector": mapping.connector,
        "data_sources": ", ".join(mapping.data_sources),
        "description": mapping.description,
    }
    form = ToolMappingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            tool_mapping_update(mapping, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"{mapping.tool} now maps to {mapping.action}.")
            return redirect("governance:tool_mapping_list")
    status = 400 if form.errors else 200
    return render(
        request,
        "governance/tool_mapping_form.html",
        {"form": form, "mapping": mapping},
        status=status,
    )


@role_required(permissions.can_manage_policy)
@require_POST
def tool_mapping_delete_view(request, pk):
    mapping = get_object_or_404(ToolMapping, pk=pk)
    tool_mapping_delete(mapping, actor=request.user)
    messages.success(request, f"{mapping.tool} is no longer mapped: it goes to a person.")
    return redirect("governance:tool_mapping_list")


@role_required(permissions.can_manage_policy)
def runtime_claude_settings(request, name):
    """Download managed-settings.json (?hook=command|http) or managed-mcp.json
    (?file=mcp) for one of the runtime's profiles."""
    runtime = get_object_or_404(AgentRuntime, name=name)
    profile = request.GET.get("profile", "")
    base_url = request.build_absolute_uri("/").rstrip("/")
    try:
        if request.GET.get("file") == "mcp":
            document, filename = (
                managed_mcp_build(runtime=runtime, profile=profile, base_url=base_url),
                "managed-mcp.json",
            )
        else:
            document, filename = (
                claude_settings_build(
                    runtime=runtime,
                    profile=profile,
                    base_url=base_url,
                    hook=request.GET.get("hook", "command"),
                ),
                "managed-settings.json",
            )
    except ApplicationError as error:
        return HttpResponse(error.message, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(json.dumps(document, indent=2) + "\n", content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
