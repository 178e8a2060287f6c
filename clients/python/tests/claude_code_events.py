"""Claude Code hook events as Claude Code sends them (every field name as documented in
the hooks reference: session_id, transcript_path, cwd, permission_mode, hook_event_name,
tool_name, tool_input, tool_use_id; tool_response on PostToolUse). The command hook and
the HTTP hook endpoint are tested against these same events."""

import hashlib

CWD = "/home/devon/src/shop"
SESSION = "9f2c1c2e-5b1a-4a0e-9d2b-1a2b3c4d5e6f"


def event(tool_name: str, tool_input: dict, name: str = "PreToolUse", **extra) -> dict:
    """One hook event of the demo session."""
    return {
        "session_id": SESSION,
        "transcript_path": f"/home/devon/.claude/projects/shop/{SESSION}.jsonl",
        "cwd": CWD,
        "permission_mode": "default",
        "hook_event_name": name,
        "tool_name": tool_name,
        "tool_input": tool_input,
        "tool_use_id": "toolu_"
        + hashlib.sha256(f"{tool_name}{sorted(tool_input.items())}".encode()).hexdigest()[:16],
        **extra,
    }


def post(pre: dict, tool_response: dict, name: str = "PostToolUse") -> dict:
    """The PostToolUse event that follows a PreToolUse event."""
    return {**pre, "hook_event_name": name, "tool_response": tool_response}


WRITE_IN_PROJECT = event("Write", {"file_path": f"{CWD}/src/app.py", "content": "x = 1\n"})
EDIT_OUTSIDE = event("Edit", {"file_path": "/etc/hosts", "old_string": "a", "new_string": "b"})
READ_IN_PROJECT = event("Read", {"file_path": f"{CWD}/README.md"})
BASH_RM_BUILD = event("Bash", {"command": "rm -rf build/", "description": "Remove build output"})
BASH_PUSH = event("Bash", {"command": "git push --force origin main", "description": "Push"})
WEBFETCH = event("WebFetch", {"url": "https://example.com", "prompt": "Summarise"})
BRANCH = event("mcp__git__git_create_branch", {"repo_path": f"{CWD}", "branch_name": "fix"})
