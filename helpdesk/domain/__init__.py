"""The rules of the helpdesk, shared by the HTTP API, the pages and the live socket."""
