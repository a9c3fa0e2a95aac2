"""The API's routers, one per resource: decisions, terminals, policy, audit, map data."""
