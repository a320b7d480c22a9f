"""Session management component."""

from components.session_management.component import SessionManagement, SessionManagementArgs

__all__ = ["SessionManagement", "SessionManagementArgs"]
