"""Projects: separate namespaces of sessions, runs, sweeps, models and audit on one server."""
