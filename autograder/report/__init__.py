"""Results for people and machines: results.json, the terminal table, feedback pages."""
