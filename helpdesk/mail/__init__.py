"""Mail: composing notifications, the outbox and its sender, and the inbound reply gateway."""
