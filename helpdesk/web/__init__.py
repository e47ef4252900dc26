"""HTTP plumbing shared by the JSON API, the pages and the socket: sessions, errors, security."""
