"""Who changed what, and when: registry changes, deletes, token changes."""
