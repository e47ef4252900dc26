"""Schema migrations: applied by `helpdesk migrate`, `init-db`, and `serve` on a new database."""
