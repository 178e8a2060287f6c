"""API routes of the hooks (mounted under /api/v1/)."""

from governance.api.routes import api_path
from governance.hooks import api

app_name = "hooks-api"

urlpatterns = [
    *api_path("hooks/claude-code", api.ClaudeCodeHookView.as_view(), "claude-code"),
    *api_path("hooks/tool-mappings", api.ToolMappingView.as_view(), "tool-mappings"),
]
