"""What the API and the workers share: settings, database, tables, run states, storage."""
