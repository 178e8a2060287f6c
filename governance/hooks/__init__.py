"""Enforcement where agents already are: tool mappings, the Claude Code HTTP hook endpoint
and the managed settings that wire Claude Code to the console."""
