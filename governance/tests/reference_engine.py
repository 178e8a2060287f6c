"""A deliberately naive second implementation of the decision rules, written from the rule
tables of the README ("The rules, in order, and their reason codes") and of the engine's
docstring (conditions), for the differential test. Tests only.

It shares nothing with governance/engine.py but the snapshot and proposal types it reads:
no helpers, no exceptions for control flow, one flat function that walks the table top to
bottom and returns (outcome, reason) at the first rule that fires."""

from fnmatch import fnmatchcase


def _glob_any(value, patterns):
    for pattern in patterns:  # noqa: SIM110 - naive on purpose
        if fnmatchcase(value, pattern):
            return True
    return False


def _condition_result(compiled, variables):
    try:
        return "match" if compiled.evaluate(variables) else "no_match"
    except Exception:  # noqa: BLE001 - the reference says: an error is an error
        return "error"


def reference_decide(snapshot, proposal):
    """(outcome, reason) for one proposal, straight from the tables."""
    # ---- Check 1, least privilege: the first failure denies --------------------------
    # 1. the runtime may use the profile
    if proposal.profile not in snapshot.runtime_profiles.get(proposal.runtime_id, ()):
        return "deny", "runtime_not_allowed_profile"
    # 2. the profile exists, is active, and is not past its expiry
    if proposal.profile not in snapshot.profiles:
        return "deny", "unknown_profile"
    profile = snapshot.profiles[proposal.profile]
    if profile.status != "active":
        return "deny", "profile_inactive"
    if profile.expires_at is not None and not (proposal.now < profile.expires_at):
        return "deny", "profile_expired"
    # 3. on_behalf_of may launch the profile: a launcher user, or in a launcher group
    is_launcher_user = (
        proposal.on_behalf_of_user_id is not None
        and proposal.on_behalf_of_user_id in profile.launcher_users
    )
    in_launcher_group = len(set(profile.launcher_groups) & set(proposal.on_behalf_of_groups)) > 0
    if not is_launcher_user and not in_launcher_group:
        return "deny", "launcher_not_allowed"
    # 4. every catalog item named: the connector, the connector of each data source, then
    #    the plugin; each in the catalog (of the right kind) and approved
    items = []
    if proposal.connector:
        items.append(proposal.connector)
    for source in proposal.data_sources:
        items.append(source.split(":", 1)[0])
    for slug in items:
        entry = snapshot.catalog.get(slug)
        if entry is None or entry.kind != "connector":
            return "deny", "unknown_catalog_item"
        if entry.status != "approved":
            return "deny", "catalog_item_not_approved"
    if proposal.plugin is not None:
        if "@" in proposal.plugin:
            slug, version = proposal.plugin.split("@", 1)
        else:
            slug, version = proposal.plugin, ""
        entry = snapshot.catalog.get(slug)
        if entry is None or entry.kind != "plugin":
            return "deny", "unknown_catalog_item"
        if entry.status != "approved":
            return "deny", "catalog_item_not_approved"
        if slug not in profile.plugins:
            return "deny", "plugin_not_in_profile"
        if version == "":
            return "deny", "plugin_version_missing"
        if version in entry.yanked_versions:
            return "deny", "version_yanked"
        if version != entry.pinned_version:
            return "deny", "version_not_pinned"
    # 5. the action type is allowed by the profile (keys or globs)
    if not _glob_any(proposal.action, profile.action_types):
        return "deny", "action_not_in_profile"
    # 6. every data source is covered by a read grant; on the changed connector, by a
    #    write grant (a write grant includes read); if the changed connector names no
    #    resource, the profile has some write grant on it
    for source in proposal.data_sources:
        connector, resource = source.split(":", 1)
        readable = False
        writable = False
        for grant in profile.grants:
            if grant.connector == connector and _glob_any(resource, grant.resources):
                readable = True
                if grant.access == "write":
                    writable = True
        if not readable:
            return "deny", "data_source_out_of_scope"
        if connector == proposal.connector and not writable:
            return "deny", "write_not_granted"
    named = [source.split(":", 1)[0] for source in proposal.data_sources]
    if proposal.connector and proposal.connector not in named:  # noqa: SIM102
        if not [
            g for g in profile.grants if g.connector == proposal.connector and g.access == "write"
        ]:
            return "deny", "write_not_granted"

    # ---- Check 2, proportional oversight, refined by conditions -----------------------
    action = snapshot.action_types.get(proposal.action)
    conditions = list(profile.conditions) + (list(action.conditions) if action else [])
    variables = {
        "params": dict(proposal.params),
        "data_sources": list(proposal.data_sources),
        "on_behalf_of": proposal.on_behalf_of,
        "profile": proposal.profile,
        "action": proposal.action,
        "connector": proposal.connector or "",
        "plugin": proposal.plugin or "",
        "model": proposal.model or "",
        "now": proposal.now,
    }
    enforced = [c for c in conditions if c.condition.mode != "shadow"]
    # a deny condition that holds denies; one that cannot be evaluated denies too
    for compiled in enforced:
        if compiled.condition.effect == "deny":
            result = _condition_result(compiled, variables)
            if result == "match":
                return "deny", "condition_denied"
            if result == "error":
                return "deny", "condition_error"
    # a require_approval condition that holds (or cannot be evaluated) asks a person
    for compiled in enforced:
        if compiled.condition.effect == "require_approval":
            result = _condition_result(compiled, variables)
            if result == "match":
                return "pending", "condition_requires_approval"
            if result == "error":
                return "pending", "condition_error"
    if action is None:
        return "pending", "unknown_action_type"
    if _glob_any(proposal.action, profile.always_ask):
        return "pending", "profile_requires_approval"
    if action.impact in ("high", "critical") or action.reversible is False:
        return "pending", "high_impact_or_irreversible"
    # an auto_execute condition that holds lets it run (an error never allows)
    for compiled in enforced:
        if compiled.condition.effect == "auto_execute":  # noqa: SIM102
            if _condition_result(compiled, variables) == "match":
                return "allow", "condition_auto_execute"
    if not action.auto_execute:
        return "pending", "requires_human_approval"
    return "allow", "auto_execute_allowlisted"
