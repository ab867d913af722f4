"""API tokens: created, listed and revoked by admins (`motionlab token …` or /v1/tokens)."""
