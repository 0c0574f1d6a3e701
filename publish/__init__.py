"""What leadership receives: tables, files and their manifest, safe to forward (the leadership pack)."""
