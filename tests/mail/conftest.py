"""Mail tests drive the sender and the notifier themselves, with a clock of their own."""

from __future__ import annotations

import pytest


@pytest.fixture
async def quiet(app):
    """The app with its own consumer and sender runners stopped."""
    await app.consumers.stop()
    await app.mail_sender.stop()
    return app
