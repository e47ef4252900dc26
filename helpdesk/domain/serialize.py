"""The API JSON form of each record; the same form goes into events, so clients parse one shape."""

from __future__ import annotations

from typing import Any

from ..encoding import isoformat
from ..models import Message, StatusChange, Ticket, TicketEdit, TicketMerge, User


def user_ref(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
    }


def attachment_json(described: dict[str, Any]) -> dict[str, Any]:
    """A file as clients see it, from what its ticket or message keeps (Attachment.describe);
    the addresses serve it to whoever may see that ticket or message."""
    url = f"/files/{described['id']}"
    return {
        "id": described["id"],
        "filename": described["filename"],
        "content_type": described["content_type"],
        "size": described["size"],
        "width": described["width"],
        "height": described["height"],
        "url": url,
        "thumbnail_url": f"{url}/thumbnail" if described["thumbnail"] else None,
    }


def attachments_json(described: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [attachment_json(each) for each in described or ()]


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """Needs `reporter` and `assignee` fetched (select_related) beforehand."""
    return {
        "id": ticket.id,
        "title": ticket.title,
        "description": ticket.description,
        "category": ticket.category.value,
        "location": ticket.location,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "version": ticket.version,
        "reporter": user_ref(ticket.reporter),
        "assignee": user_ref(ticket.assignee) if ticket.assignee else None,
        "created_at": isoformat(ticket.created_at),
        "updated_at": isoformat(ticket.updated_at),
        "first_response_at": isoformat(ticket.first_response_at),
        "closed_at": isoformat(ticket.closed_at),
        "last_message_at": isoformat(ticket.last_message_at),
        "attachments": attachments_json(ticket.attachments),
        "known_issue_id": ticket.known_issue_id,
        "affected_count": ticket.affected_count,
        "merged_into": ticket.merged_into_id,
    }


def message_json(message: Message) -> dict[str, Any]:
    """Needs `author` fetched beforehand."""
    return {
        "id": message.id,
        "ticket_id": message.ticket_id,
        "author": user_ref(message.author),
        "body": message.body,
        "internal": message.internal,
        "created_at": isoformat(message.created_at),
        "client_id": message.client_id,
        "attachments": attachments_json(message.attachments),
    }


def status_change_json(change: StatusChange) -> dict[str, Any]:
    """Needs `actor` fetched beforehand."""
    return {
        "kind": "status",
        "id": change.id,
        "ticket_id": change.ticket_id,
        "actor": user_ref(change.actor),
        "from": change.from_status.value,
        "to": change.to_status.value,
        "note": change.note,
        "at": isoformat(change.at),
    }


def ticket_edit_json(edit: TicketEdit) -> dict[str, Any]:
    """Needs `actor` fetched beforehand."""
    return {
        "kind": "edit",
        "id": edit.id,
        "ticket_id": edit.ticket_id,
        "actor": user_ref(edit.actor),
        "changes": edit.changes,
        "at": isoformat(edit.at),
    }


def merge_json(merge: TicketMerge) -> dict[str, Any]:
    """A duplicate closed into the known issue of the ticket whose history this is. Needs
    `actor` fetched beforehand."""
    return {
        "kind": "merge",
        "id": merge.id,
        "ticket_id": merge.ticket_id,  # type: ignore[attr-defined]
        "known_issue_id": merge.known_issue_id,  # type: ignore[attr-defined]
        "actor": user_ref(merge.actor),
        "at": isoformat(merge.at),
    }


def history_json(item: StatusChange | TicketEdit | TicketMerge) -> dict[str, Any]:
    """An item of a ticket's history, whichever kind it is."""
    if isinstance(item, TicketMerge):
        return merge_json(item)
    return ticket_edit_json(item) if isinstance(item, TicketEdit) else status_change_json(item)
