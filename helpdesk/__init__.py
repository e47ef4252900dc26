"""Campus Helpdesk: a real-time helpdesk for a university campus."""

from .app import create_app

__all__ = ["create_app"]
